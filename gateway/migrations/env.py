"""Alembic environment of the gateway service (URL from `GATEWAY_DATABASE_URL`)."""

from gateway.adapters.orm import Base
from gateway.config import Settings
from shared_schemas.alembic_env import run_migrations

run_migrations(Base.metadata, Settings().database_url)
