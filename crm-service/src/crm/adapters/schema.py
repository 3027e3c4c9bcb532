"""The CRM database schema complete: importing this loads every table onto the MetaData
(Alembic and tests compare against it)."""

from crm.adapters import customers, pipeline, quotes, replicas, service_desk
from crm.adapters.orm import Base

metadata = Base.metadata

__all__ = ["customers", "metadata", "pipeline", "quotes", "replicas", "service_desk"]
