"""Alembic environment of the gateway service (URL from `GATEWAY_DATABASE_URL`)."""

from gateway.adapters.schema import metadata
from gateway.config import Settings
from shared_schemas.alembic_env import run_migrations

run_migrations(metadata, Settings().database_url)
