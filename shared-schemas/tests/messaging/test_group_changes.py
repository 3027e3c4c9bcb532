"""Consumers coming and going against the real broker: a member joining and leaving its
group mid-stream (two rebalances) changes no effect and no order, and a consumer asked to
stop while the broker is frozen exits within its grace period instead of hanging."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.broker import EmbeddedBroker
from shared_schemas.messaging.kafka import KafkaSettings
from shared_schemas.messaging.relay import Relay
from tests.support.kafka_tools import eventually, new_consumer_group, running
from tests.support.probe import ProbeService
from tests.support.processes import WorkerProcess

pytestmark = pytest.mark.reliability

AGGREGATES, VERSIONS = 12, 30
# What an orchestrator waits after SIGTERM before SIGKILL (Kubernetes' default).
GRACE_PERIOD_SECONDS = 30


async def applied_at_least(engine: AsyncEngine, probe: ProbeService, expected: int) -> bool:
    return await probe.applied_count(engine) >= expected


async def test_a_member_joining_and_leaving_mid_stream_changes_no_effect_and_no_order(
    engine: AsyncEngine, probe: ProbeService, kafka: KafkaSettings
) -> None:
    group = await new_consumer_group(kafka)
    aggregates = [uuid.uuid4() for _ in range(AGGREGATES)]
    rounds = [[(aggregate, seq) for aggregate in aggregates] for seq in range(1, VERSIONS + 1)]
    sent: list[uuid.UUID] = []

    async def write(some: list[list[tuple[uuid.UUID, int]]]) -> None:
        for items in some:
            sent.extend(await probe.write_many(engine, items, per_transaction=4))
            await asyncio.sleep(0.05)  # a steady stream, not one burst

    relay = Relay(engine, probe.tables.outbox, kafka, name="probe")
    first = probe.consumer(engine, kafka, group, batch_size=100)
    second = probe.consumer(engine, kafka, group, batch_size=100)
    async with running(relay, first):
        await asyncio.wait_for(first.assigned.wait(), 30)
        writing = asyncio.create_task(write(rounds[:15]))
        async with running(second):
            # The group rebalances while events flow; the newcomer gets partitions.
            await asyncio.wait_for(second.assigned.wait(), 60)
            await writing
            writing = asyncio.create_task(write(rounds[15:]))
        # The second member left while the rest is written: its partitions come back.
        await writing
        await eventually(
            lambda: applied_at_least(engine, probe, len(sent)), timeout=120, what="all applied"
        )

    assert len(sent) == AGGREGATES * VERSIONS
    applied = await probe.applied_event_ids(engine)
    assert Counter(applied) == Counter(sent), "every event applied exactly once"
    order = await probe.applied_versions(engine)
    assert order == {aggregate: list(range(1, VERSIONS + 1)) for aggregate in aggregates}


async def test_a_consumer_asked_to_stop_while_the_broker_is_frozen_exits_in_time(
    database_url: str,
    engine: AsyncEngine,
    probe: ProbeService,
    kafka: KafkaSettings,
    topic: str,
    broker: EmbeddedBroker,
    tmp_path: Path,
) -> None:
    group = await new_consumer_group(kafka)
    await probe.write_many(engine, [(uuid.uuid4(), 1) for _ in range(20)], per_transaction=10)
    consumer = WorkerProcess(
        "consumer",
        database_url=database_url,
        bootstrap=kafka.bootstrap_servers,
        topic=topic,
        group=group,
        log_path=tmp_path / "consumer.log",
    )
    try:
        async with running(Relay(engine, probe.tables.outbox, kafka, name="probe")):
            await eventually(
                lambda: applied_at_least(engine, probe, 20), timeout=60, what="consuming"
            )
        broker.pause()
        try:
            started = time.monotonic()
            consumer.process.terminate()
            code = await asyncio.to_thread(consumer.process.wait, GRACE_PERIOD_SECONDS + 10)
            took = time.monotonic() - started
        finally:
            broker.resume()
    finally:
        consumer.stop()
    assert code == 0, "a clean exit, offsets of what was applied committed or left to redo"
    assert took < GRACE_PERIOD_SECONDS, f"stopping took {took:.1f}s"
