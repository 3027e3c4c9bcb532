"""`/admin/outbox`: the backlog, and republishing what a broker lost through the admin API:
the events since a time become pending again and the relay publishes them once more;
real broker, SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.events.base import CloudEvent
from shared_schemas.messaging import KafkaSettings, Workers
from shared_schemas.service import create_service_app
from tests.support.identity import ProtectedSettings, development_bearer
from tests.support.kafka_tools import eventually, read_topic, running
from tests.support.probe import ProbeService

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


async def probe_app(
    engine: AsyncEngine, kafka: KafkaSettings, topic: str
) -> tuple[ProbeService, Workers, FastAPI]:
    """A service app over the probe's tables, with the operations routes every service has."""
    probe = ProbeService(topic)
    await probe.create_schema(engine)
    workers = Workers(name="probe", engine=engine, tables=probe.tables, kafka=kafka)
    app = create_service_app(
        service="crm",
        title="t",
        description="",
        settings=ProtectedSettings(),
        engine=engine,
        workers=workers,
        routers=[],
    )
    return probe, workers, app


async def test_republish_marks_events_since_a_time_pending_and_the_relay_sends_them_again(
    engine: AsyncEngine, kafka: KafkaSettings, topic: str
) -> None:
    probe, workers, app = await probe_app(engine, kafka, topic)
    admin = development_bearer("admin")

    earlier = [(uuid.uuid4(), 1) for _ in range(3)]
    later = [(uuid.uuid4(), 1) for _ in range(4)]
    await probe.write_many(engine, earlier, per_transaction=3)
    since = datetime.now(UTC)
    later_ids = await probe.write_many(engine, later, per_transaction=2)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc"
    ) as client:
        backlog = (await client.get("/admin/outbox", headers=admin)).json()
        assert backlog["pending"] == 7
        assert datetime.fromisoformat(backlog["oldest_pending_at"]) < since
        assert backlog["oldest_pending_age_seconds"] >= 0

        async with running(workers.relay()):
            await eventually(lambda: pending_ids(engine, probe, set()), what="all published")
        assert len(await read_topic(kafka, topic)) == 7
        idle = (await client.get("/admin/outbox", headers=admin)).json()
        assert idle["pending"] == 0
        assert idle["oldest_pending_at"] is None
        assert idle["oldest_pending_age_seconds"] == 0
        assert datetime.fromisoformat(idle["oldest_kept_at"]) < since

        # The same instant written with another offset: only the later events come back.
        local = since.astimezone(timezone(timedelta(hours=2))).isoformat()
        response = await client.post(
            "/admin/outbox/republish", json={"since": local}, headers=admin
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"republished": 4}
        assert await pending_ids(engine, probe, set(later_ids))
        again = (await client.get("/admin/outbox", headers=admin)).json()
        assert again["pending"] == 4
        assert datetime.fromisoformat(again["oldest_pending_at"]) >= since

        async with running(workers.relay()):
            await eventually(lambda: pending_ids(engine, probe, set()), what="republished")
        sent = Counter(
            CloudEvent[Any].model_validate_json(r.value).id for r in await read_topic(kafka, topic)
        )
        assert sum(sent.values()) == 11
        assert {event_id for event_id, times in sent.items() if times == 2} == set(later_ids)

        # Nothing was published since: republishing from now finds nothing to do.
        now = datetime.now(UTC).isoformat()
        nothing = await client.post("/admin/outbox/republish", json={"since": now}, headers=admin)
        assert nothing.json() == {"republished": 0}


async def test_republish_is_for_admin_only_and_refuses_a_time_it_cannot_place(
    engine: AsyncEngine, kafka: KafkaSettings, topic: str
) -> None:
    probe, workers, app = await probe_app(engine, kafka, topic)
    await probe.write_many(engine, [(uuid.uuid4(), 1)], per_transaction=1)
    async with running(workers.relay()):
        await eventually(lambda: pending_ids(engine, probe, set()), what="published")
    body = {"since": "2026-01-01T00:00:00Z"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc"
    ) as client:
        assert (await client.post("/admin/outbox/republish", json=body)).status_code == 401
        assert (await client.get("/admin/outbox")).status_code == 401
        # sales_manager may do anything in CRM, but not its operations.
        for role in ("sales", "sales_manager", "finance"):
            refused = await client.post(
                "/admin/outbox/republish", json=body, headers=development_bearer(role)
            )
            assert refused.status_code == 403, role
            assert (
                await client.get("/admin/outbox", headers=development_bearer(role))
            ).status_code == 403

        admin = development_bearer("admin")
        future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        for bad in (
            {},
            {"since": "2026-01-01T00:00:00"},  # no offset: which instant is it?
            {"since": future},
            {"since": "yesterday"},
            {"since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z"},
        ):
            response = await client.post("/admin/outbox/republish", json=bad, headers=admin)
            assert response.status_code == 422, (bad, response.text)
            assert response.headers["content-type"] == PROBLEM
            fields = [error["field"] for error in response.json()["errors"]]
            assert fields, bad
            assert set(fields) <= {"since", "until"}, (bad, fields)
        # Refused requests changed nothing: the published event was not made pending.
        assert await pending_ids(engine, probe, set())


async def pending_ids(engine: AsyncEngine, probe: ProbeService, expected: set[uuid.UUID]) -> bool:
    outbox = probe.tables.outbox
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(outbox.c.event_id).where(outbox.c.published_at.is_(None))
        )
        return set(rows.scalars()) == expected
