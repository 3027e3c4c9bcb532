"""Alembic environment of the ERP service (URL from `ERP_DATABASE_URL`)."""

from erp.adapters.orm import Base
from erp.config import Settings
from shared_schemas.alembic_env import run_migrations

run_migrations(Base.metadata, Settings().database_url)
