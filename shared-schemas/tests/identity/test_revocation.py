"""Revoked ids kept in memory: a change of this process is seen at once, one made
elsewhere after a read that no request waits for, and a database outage keeps the ids
in hand serving."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.database import create_engine
from shared_schemas.identity.revocation import RevokedIds
from shared_schemas.identity.tokens import KeysUnavailable, Principal
from tests.support.kafka_tools import eventually

metadata = MetaData()
revoked = Table("revoked", metadata, Column("id", String(36), primary_key=True))


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'revoked.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


def revoked_ids(engine: AsyncEngine, refresh_seconds: float) -> RevokedIds:
    return RevokedIds(
        engine,
        select(revoked.c.id),
        claim=lambda principal: principal.user_id,
        reason="user {} is disabled",
        refresh_seconds=refresh_seconds,
    )


async def revoke(engine: AsyncEngine, *ids: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(revoked), [{"id": value} for value in ids])


async def test_an_own_change_is_seen_at_once_and_one_made_elsewhere_after_a_read(
    engine: AsyncEngine,
) -> None:
    await revoke(engine, "a")
    ids = revoked_ids(engine, refresh_seconds=3600)
    assert await ids.contains("a")
    assert not await ids.contains("b")
    # This process revoked b: the next answer waits for a read that sees it.
    await revoke(engine, "b")
    ids.forget()
    assert await ids.contains("b")
    # Revoked elsewhere: unseen until the ids are due again.
    await revoke(engine, "c")
    assert not await ids.contains("c")


async def test_a_due_read_runs_beside_the_request_that_found_it_due(
    engine: AsyncEngine,
) -> None:
    ids = revoked_ids(engine, refresh_seconds=0)
    assert not await ids.contains("c")
    await revoke(engine, "c")
    # Answered from the ids in hand while the read that will see c starts.
    assert not await ids.contains("c")
    await eventually(lambda: ids.contains("c"), timeout=5, what="c seen by the read beside")


async def test_the_ids_in_hand_keep_serving_while_the_database_is_away(
    engine: AsyncEngine,
) -> None:
    await revoke(engine, "a")
    ids = revoked_ids(engine, refresh_seconds=0)
    assert await ids.contains("a")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.drop_all)  # every read fails from now on
    ids.forget()
    for _ in range(3):
        assert await ids.contains("a")
        assert not await ids.contains("b")
    principal = Principal(
        user_id="a",
        roles=frozenset(),
        employee_id=None,
        token_id="t-1",
        expires_at=datetime.now(UTC) + timedelta(minutes=5),
    )
    assert await ids.refused(principal) == "user a is disabled"


async def test_without_ids_in_hand_a_database_outage_trusts_no_token(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(metadata.drop_all)
    ids = revoked_ids(engine, refresh_seconds=0)
    with pytest.raises(KeysUnavailable):
        await ids.contains(str(uuid.uuid4()))
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    assert not await ids.contains("a")
