"""Staging races against the CRM on PostgreSQL: hold a row another writer needs, wait
until the writers queue behind it, then let them meet in that order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text

from shared_schemas.database import session_factory
from tests.support.crm import Crm
from tests.support.kafka_tools import until


def require_postgresql(crm: Crm) -> None:
    if crm.engine.dialect.name != "postgresql":
        # Every SQLite transaction takes the write lock when it begins: two writers never
        # interleave, so there is no race to provoke.
        pytest.skip("SQLite writers never interleave")


@asynccontextmanager
async def holding(crm: Crm, statement: str, **params: Any) -> AsyncIterator[None]:
    """A transaction that has locked what `statement` locks until the block ends."""
    async with session_factory(crm.engine)() as session, session.begin():
        await session.execute(text(statement), params)
        yield


async def waiting(crm: Crm, count: int) -> None:
    """Until `count` transactions wait for a lock."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )

    async def read() -> int:
        async with crm.engine.connect() as connection:
            return int(await connection.scalar(query) or 0)

    await until(read, lambda seen: seen >= count, f"{count} transactions waiting for a lock")
