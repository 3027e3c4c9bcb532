"""The relay and the consumer across a real database outage: their PostgreSQL server (one
of the test's own) crashes while events are recorded and arrive, and starts again. They
wait it out, without a restart of their own: every event is published and applied once,
none is dead-lettered (the outage is not the message's fault), nothing is lost."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.database import create_engine
from shared_schemas.events.base import new_event
from shared_schemas.messaging.kafka import KafkaSettings
from shared_schemas.messaging.relay import Relay
from tests.support.kafka_tools import (
    eventually,
    new_consumer_group,
    produce_raw,
    read_topic,
    running,
)
from tests.support.pg_cluster import PostgresCluster, postgres_cluster
from tests.support.probe import ProbeService

pytestmark = pytest.mark.reliability


@pytest.fixture
async def server() -> AsyncIterator[PostgresCluster]:
    async with postgres_cluster() as started:
        yield started


@pytest.fixture
async def own_engine(server: PostgresCluster) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(server.url, timeout=2)
    yield engine
    await engine.dispose()


def retries(group: str) -> float:
    return REGISTRY.get_sample_value("consumer_retries_total", {"group": group}) or 0.0


async def test_relay_and_consumer_wait_out_a_crashed_database_and_lose_nothing(
    server: PostgresCluster, own_engine: AsyncEngine, kafka: KafkaSettings, topic: str
) -> None:
    engine = own_engine
    probe = ProbeService(topic)
    await probe.create_schema(engine)
    group = await new_consumer_group(kafka)
    # Three attempts would dead-letter a failing message within a second: an outage
    # lasting longer must not count as attempts.
    consumer = probe.consumer(
        engine, kafka, group, batch_size=20, max_attempts=3, retry_base=0.05, max_backoff=0.5
    )
    relay = Relay(engine, probe.tables.outbox, kafka, name=f"probe-{group}", max_backoff=0.5)

    async def applied(expected: int) -> bool:
        try:
            return await probe.applied_count(engine) >= expected
        except Exception:  # the database may still be starting
            return False

    async with running(relay, consumer):
        before = await probe.write_many(engine, [(uuid.uuid4(), 1) for _ in range(20)], 10)
        await eventually(lambda: applied(20), timeout=60, what="applied before the crash")

        await server.stop("immediate")
        # Events keep arriving from the other services while the database is down.
        arriving = [
            new_event(probe.event(probe_id=uuid.uuid4(), seq=1, version=1), source="t", actor="t")
            for _ in range(20)
        ]
        await produce_raw(
            kafka, topic, [(e.subject.encode(), e.model_dump_json().encode()) for e in arriving]
        )
        tried = retries(group)

        async def retrying() -> bool:
            return retries(group) >= tried + 5

        await eventually(retrying, timeout=30, what="the consumer retrying against the outage")

        await server.start()
        after = await probe.write_many(engine, [(uuid.uuid4(), 1) for _ in range(20)], 10)
        await eventually(lambda: applied(60), timeout=90, what="everything applied")

    applied_ids = await probe.applied_event_ids(engine)
    expected = {*before, *(e.id for e in arriving), *after}
    assert len(applied_ids) == len(expected), "an event had its effect twice or went missing"
    assert set(applied_ids) == expected
    assert await read_topic(kafka, f"dlq.{group}") == [], "an outage dead-lettered a message"
