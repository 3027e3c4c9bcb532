"""What `Outbox.record` writes: the envelope, its key and bucket, its correlation."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared_schemas.messaging.context import event_context
from shared_schemas.messaging.outbox import EventTooLarge
from shared_schemas.messaging.tables import KEY_BUCKETS, key_bucket
from tests.support.probe import ProbeService

pytestmark = pytest.mark.integration


@pytest.fixture
async def probe(engine: AsyncEngine) -> ProbeService:
    service = ProbeService("test.outbox")
    await service.create_schema(engine)
    return service


async def test_recorded_event_is_a_cloudevent_keyed_by_its_aggregate(
    engine: AsyncEngine, probe: ProbeService
) -> None:
    aggregate = uuid.uuid4()
    async with AsyncSession(engine) as session, session.begin():
        with event_context(correlation_id="req-42"):
            event = await probe.outbox.record(
                session, probe.event(probe_id=aggregate, seq=1, version=3), actor="user-7"
            )
    outbox = probe.tables.outbox
    async with engine.connect() as connection:
        row = (await connection.execute(select(outbox))).one()
    document = json.loads(row.payload)
    assert document["specversion"] == "1.0"
    assert document["type"] == "test.outbox.recorded.v1"
    assert document["subject"] == str(aggregate) == row.key
    assert document["id"] == str(event.id) == str(row.event_id)
    assert document["source"] == "probe-service"
    assert document["actor"] == "user-7"
    assert document["correlationid"] == "req-42"
    assert document["data"]["version"] == 3
    assert row.topic == "test.outbox"
    assert row.bucket == key_bucket(str(aggregate))
    assert row.headers["content-type"] == "application/cloudevents+json"
    assert row.headers["correlation-id"] == "req-42"
    assert row.published_at is None


async def test_automatic_changes_are_attributed_to_the_service(
    engine: AsyncEngine, probe: ProbeService
) -> None:
    async with AsyncSession(engine) as session, session.begin():
        event = await probe.outbox.record(
            session, probe.event(probe_id=uuid.uuid4(), seq=1, version=1)
        )
    assert event.actor == "probe-service"
    assert event.correlationid is None


async def test_an_oversized_event_is_refused_and_nothing_is_written(
    engine: AsyncEngine, probe: ProbeService
) -> None:
    class Bloated(probe.event):  # type: ignore[name-defined,misc]
        blob: str

    with pytest.raises(EventTooLarge):
        async with AsyncSession(engine) as session, session.begin():
            await probe.outbox.record(
                session, Bloated(probe_id=uuid.uuid4(), seq=1, version=1, blob="x" * 600_000)
            )
    assert await probe.outbox_count(engine) == 0


def test_key_buckets_are_stable_and_in_range() -> None:
    # Stored in rows: a change here (or a hash that differs between processes) would
    # reorder events of keys already in the outbox, so the values are pinned.
    assert key_bucket("3f2b1c1e-0000-4000-8000-000000000000") == 10
    assert key_bucket("customer-1") == 13
    assert {key_bucket(str(uuid.uuid4())) for _ in range(2000)} == set(range(KEY_BUCKETS))
