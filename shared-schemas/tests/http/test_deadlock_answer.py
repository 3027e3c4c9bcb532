"""Two requests that deadlock on PostgreSQL: the server rolls one back to let the other
through, and its client gets a 409 inviting a retry (nothing of it took effect), not a
500 for a fault of its own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.database import session_factory
from tests.support.identity import ProtectedSettings, development_bearer, shell_client
from tests.support.probe import ProbeService
from tests.support.races import require_postgresql

pytestmark = pytest.mark.api


@pytest.fixture
async def service(engine: AsyncEngine) -> AsyncIterator[tuple[httpx.AsyncClient, ProbeService]]:
    require_postgresql(engine)
    probe = ProbeService("test.deadlock")
    await probe.create_schema(engine)
    async with engine.begin() as connection:
        for seq in (1, 2):
            await connection.execute(insert(probe.probes).values(probe_id=uuid.uuid4(), seq=seq))
    sessions = session_factory(engine)
    both_hold_one = asyncio.Barrier(2)
    router = APIRouter()

    @router.post("/take/{first}/{second}", status_code=201)
    async def take(first: int, second: int) -> dict[str, int]:
        """Lock one probe row, wait until the other request holds the other, then lock
        it too and record a row: the two requests deadlock."""
        probes = probe.probes
        async with sessions() as session, session.begin():
            await session.execute(
                select(probes.c.seq).where(probes.c.seq == first).with_for_update()
            )
            await both_hold_one.wait()
            await session.execute(
                select(probes.c.seq).where(probes.c.seq == second).with_for_update()
            )
            await session.execute(insert(probes).values(probe_id=uuid.uuid4(), seq=first * 10))
        return {"seq": first * 10}

    async with shell_client(ProtectedSettings(), engine, probe.tables, [router]) as client:
        yield client, probe


async def test_the_request_rolled_back_to_break_a_deadlock_is_told_to_retry(
    service: tuple[httpx.AsyncClient, ProbeService], engine: AsyncEngine
) -> None:
    client, probe = service
    headers = development_bearer("admin")
    answers = await asyncio.gather(
        client.post("/take/1/2", headers=headers), client.post("/take/2/1", headers=headers)
    )
    assert sorted(answer.status_code for answer in answers) == [201, 409], [
        answer.text for answer in answers
    ]
    [refused] = [answer for answer in answers if answer.status_code == 409]
    assert refused.headers["content-type"] == "application/problem+json"
    assert "retry" in refused.json()["detail"]
    # Only the request let through took effect.
    async with engine.connect() as connection:
        written = await connection.scalar(
            select(func.count()).select_from(probe.probes).where(probe.probes.c.seq >= 10)
        )
    assert written == 1
