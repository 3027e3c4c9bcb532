"""Consumers applying many events per transaction behave exactly like one per event:
each effect once, in order per key, poison isolated; real broker, SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.events.base import new_event
from shared_schemas.messaging.consumer import Consumer
from shared_schemas.messaging.kafka import KafkaSettings
from shared_schemas.messaging.relay import Relay
from tests.support.kafka_tools import (
    eventually,
    new_consumer_group,
    produce_raw,
    read_topic,
    running,
)
from tests.support.probe import ProbeService

pytestmark = pytest.mark.integration


async def batching_consumer(
    engine: AsyncEngine, probe: ProbeService, kafka: KafkaSettings, **options: object
) -> Consumer:
    group = await new_consumer_group(kafka)
    return probe.consumer(engine, kafka, group, batch_size=50, **options)


async def test_batches_apply_each_event_once_in_key_order(
    engine: AsyncEngine, kafka: KafkaSettings, topic: str
) -> None:
    probe = ProbeService(topic)
    await probe.create_schema(engine)
    aggregates = [uuid.uuid4() for _ in range(5)]
    items = [(aggregate, seq) for seq in range(1, 61) for aggregate in aggregates]
    await probe.write_many(engine, items, per_transaction=25)
    consumer = await batching_consumer(engine, probe, kafka)
    async with running(Relay(engine, probe.tables.outbox, kafka, name="probe"), consumer):
        await eventually(
            lambda: _count_at_least(engine, probe, len(items)), timeout=60, what="all applied"
        )
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(probe.applied.c.probe_id, probe.applied.c.seq).order_by(probe.applied.c.id)
            )
        ).all()
    order: dict[uuid.UUID, list[int]] = defaultdict(list)
    for probe_id, seq in rows:
        order[probe_id].append(seq)
    assert order == {aggregate: list(range(1, 61)) for aggregate in aggregates}


async def test_poison_inside_a_batch_is_isolated_and_the_rest_applied_once(
    engine: AsyncEngine, kafka: KafkaSettings, topic: str
) -> None:
    probe = ProbeService(topic)
    await probe.create_schema(engine)
    key = b"one-partition"
    good = [uuid.uuid4() for _ in range(30)]
    doomed = uuid.uuid4()

    def event(probe_id: uuid.UUID, *, fail: bool = False) -> bytes:
        data = probe.event(probe_id=probe_id, seq=1, version=1, fail=fail)
        return new_event(data, source="t", actor="t").model_dump_json().encode()

    messages = [event(p) for p in good[:10]]
    duplicate = messages[5]  # delivered again, twice, within the same batch
    messages += [b"{not json", duplicate, duplicate, event(doomed, fail=True)]
    messages += [event(p) for p in good[10:]]
    await produce_raw(kafka, topic, [(key, value) for value in messages])
    consumer = await batching_consumer(
        engine, probe, kafka, max_attempts=2, retry_base=0.05, max_backoff=0.1
    )
    async with running(consumer):
        await eventually(
            lambda: _count_at_least(engine, probe, len(good)), timeout=60, what="good applied"
        )
        await eventually(
            lambda: _dead(kafka, consumer.group, 2), timeout=30, what="two dead letters"
        )
    applied = Counter(await probe.applied_event_ids(engine))
    assert set(await probe.applied_versions(engine)) == set(good), "the good, not the doomed"
    assert len(applied) == len(good)
    assert max(applied.values()) == 1, "no event applied twice"
    reasons = sorted(
        dict(record.headers)["dlq-reason"].decode()
        for record in await read_topic(kafka, f"dlq.{consumer.group}")
    )
    assert reasons == ["failed", "malformed"]


async def _count_at_least(engine: AsyncEngine, probe: ProbeService, expected: int) -> bool:
    return await probe.applied_count(engine) >= expected


async def _dead(kafka: KafkaSettings, group: str, expected: int) -> bool:
    return len(await read_topic(kafka, f"dlq.{group}")) >= expected
