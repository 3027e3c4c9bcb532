"""The ERP database schema complete: importing this loads every table onto the MetaData
(Alembic and tests compare against it)."""

from erp.adapters import catalog, finance, people, replicas, sales, stock
from erp.adapters.orm import Base

metadata = Base.metadata

__all__ = ["catalog", "finance", "metadata", "people", "replicas", "sales", "stock"]
