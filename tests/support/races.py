"""Staging races on PostgreSQL, against any service's database: hold a row another writer
needs, wait until the writers queue behind it, then let them meet in that order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.database import session_factory
from tests.support.kafka_tools import until

_WAITING = text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def require_postgresql(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        # Every SQLite transaction takes the write lock when it begins: two writers never
        # interleave, so there is no race to provoke.
        pytest.skip("SQLite writers never interleave")


@asynccontextmanager
async def holding(engine: AsyncEngine, statement: str, **params: Any) -> AsyncIterator[None]:
    """A transaction that has locked what `statement` locks until the block ends."""
    async with session_factory(engine)() as session, session.begin():
        await session.execute(text(statement), params)
        yield


async def lock_waiters(engine: AsyncEngine) -> int:
    """How many transactions of the engine's database wait for a lock now."""
    async with engine.connect() as connection:
        return int(await connection.scalar(_WAITING) or 0)


async def waiting(engine: AsyncEngine, count: int) -> None:
    """Until at least `count` transactions wait for a lock."""
    await until(
        lambda: lock_waiters(engine),
        lambda seen: seen >= count,
        f"{count} transactions waiting for a lock",
    )
