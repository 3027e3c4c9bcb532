"""Alembic environment of the ERP service (URL from `ERP_DATABASE_URL`)."""

from erp.adapters.schema import metadata
from erp.config import Settings
from shared_schemas.alembic_env import run_migrations

run_migrations(metadata, Settings().database_url)
