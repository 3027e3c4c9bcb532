"""Alembic environment of the CRM service (URL from `CRM_DATABASE_URL`)."""

from crm.adapters.schema import metadata
from crm.config import Settings
from shared_schemas.alembic_env import run_migrations

run_migrations(metadata, Settings().database_url)
