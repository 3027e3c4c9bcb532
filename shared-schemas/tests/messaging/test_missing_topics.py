"""A relay and a consumer started before their topics exist (a deployment whose topics job
has not run yet) wait for them without creating any (a broker creating topics on first
use would pick its own partition count), report what they miss, and once the topics are
there every event is delivered, once; real broker, SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.messaging.kafka import (
    KafkaSettings,
    ensure_topics,
    missing_topics,
    partition_counts,
)
from shared_schemas.messaging.relay import Relay
from tests.support.kafka_tools import eventually, new_consumer_group, running
from tests.support.probe import ProbeService

pytestmark = pytest.mark.integration


def reported(metric: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(metric, labels)


async def test_relay_and_consumer_wait_for_their_topics_and_then_deliver_everything_once(
    engine: AsyncEngine, kafka: KafkaSettings
) -> None:
    topic = f"test.{uuid.uuid4().hex[:12]}"  # not created yet
    probe = ProbeService(topic)
    await probe.create_schema(engine)
    group = await new_consumer_group(kafka)
    consumer = probe.consumer(engine, kafka, group, max_backoff=0.5)
    relay_name = f"probe-{uuid.uuid4().hex[:8]}"
    relay = Relay(engine, probe.tables.outbox, kafka, name=relay_name, max_backoff=0.5)
    written = await probe.write_many(
        engine, [(uuid.uuid4(), 1) for _ in range(5)], per_transaction=5
    )

    async with running(relay, consumer):

        async def both_waiting() -> bool:
            return (
                reported("consumer_missing_topics", group=group) == 1
                and reported("relay_missing_topics", relay=relay_name) == 1
            )

        await eventually(both_waiting, what="relay and consumer report the missing topic")
        # (Listing topics, since describing one by name may create it.)
        assert await missing_topics(kafka, [topic]) == [topic], "waiting created nothing"
        assert await probe.outbox_count(engine, unpublished=True) == len(written), (
            "nothing counted as published"
        )

        await ensure_topics(kafka, [(topic, 2)])  # the topics job, late

        async def all_applied() -> bool:
            return await probe.applied_count(engine) >= len(written)

        await eventually(all_applied, what="every event applied")
        assert reported("consumer_missing_topics", group=group) == 0
        assert reported("relay_missing_topics", relay=relay_name) == 0
    assert sorted(await probe.applied_event_ids(engine)) == sorted(written), "each once"
    assert await partition_counts(kafka, [topic]) == {topic: 2}
