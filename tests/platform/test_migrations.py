"""Each service's Alembic history builds its schema from nothing, matches its models, and
can be rolled back, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from shared_schemas.database import create_engine

pytestmark = pytest.mark.api

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("crm-service", "erp-service", "gateway")


def alembic_config(service: str, database_url: str) -> Config:
    config = Config(str(ROOT / service / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


async def table_names(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_build_the_models_schema_and_roll_back(
    service: str, database_url: str
) -> None:
    config = alembic_config(service, database_url)
    # Alembic's env runs its own event loop: keep it off the test's loop.
    await asyncio.to_thread(command.upgrade, config, "head")
    assert {"outbox", "inbox", "job_runs"} <= await table_names(database_url)
    # `check` fails when the migrated database differs from the service's MetaData.
    await asyncio.to_thread(command.check, config)
    await asyncio.to_thread(command.downgrade, config, "base")
    assert await table_names(database_url) == set()
    await asyncio.to_thread(command.upgrade, config, "head")
    await asyncio.to_thread(command.check, config)
