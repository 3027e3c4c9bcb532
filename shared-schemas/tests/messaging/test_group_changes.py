"""Consumers coming and going against the real broker: a member joining and leaving its
group mid-stream (two rebalances) changes no effect and no order; a batch whose partitions
are revoked while it is applied leaves its offsets uncommitted instead of restarting the
consumer; a member reports lag only for the partitions it owns; and a consumer asked to
stop while the broker is frozen, or after it died, exits in time, cleanly, with one
warning."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.broker import EmbeddedBroker, free_port
from shared_schemas.events.base import CloudEvent
from shared_schemas.messaging.consumer import Consumer
from shared_schemas.messaging.kafka import KafkaSettings
from shared_schemas.messaging.metrics import CONSUMER_LAG
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


@asynccontextmanager
async def another_member(kafka: KafkaSettings, group: str, topic: str) -> AsyncIterator[Any]:
    """A plain aiokafka member of `group`, as another replica looks to the broker: its
    joining rebalances the group and it takes partitions; it applies and commits nothing,
    and reports no metrics into this process's registry. Leaving rebalances again."""
    member = kafka.consumer(group)
    member.subscribe([topic])
    await member.start()
    try:
        yield member
    finally:
        await member.stop()


def split_between(
    first: Consumer, second: Any, everything: set[TopicPartition]
) -> Callable[[], Awaitable[bool]]:
    """Whether the rebalance ended with each member owning a share of `everything`."""

    async def check() -> bool:
        theirs = set(second.assignment())
        return bool(first.partitions) and bool(theirs) and first.partitions | theirs == everything

    return check


def lag_series(group: str) -> set[TopicPartition]:
    """The partitions this process exports a `consumer_lag` series for, for `group`."""
    return {
        TopicPartition(sample.labels["topic"], int(sample.labels["partition"]))
        for metric in CONSUMER_LAG.collect()
        for sample in metric.samples
        if sample.labels["group"] == group
    }


def duplicates_skipped(group: str) -> float:
    return REGISTRY.get_sample_value("events_duplicate_total", {"group": group}) or 0.0


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


async def test_a_batch_whose_partitions_are_revoked_while_it_is_applied_restarts_nothing(
    engine: AsyncEngine,
    probe: ProbeService,
    kafka: KafkaSettings,
    topic: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rebalance while a batch is applied: its offsets are not committed (committing for
    a partition no longer assigned raises in aiokafka, which used to restart the consumer
    and rebalance the group once more); the records are read again and skipped."""
    caplog.set_level(logging.INFO)
    group = await new_consumer_group(kafka)
    everything = {TopicPartition(topic, partition) for partition in range(3)}
    sent = await probe.write_many(engine, [(uuid.uuid4(), 1) for _ in range(24)], 24)

    # What each getmany of the member under test returned (observed only).
    fetched: list[set[TopicPartition]] = []
    getmany = AIOKafkaConsumer.getmany

    async def recording(self: AIOKafkaConsumer, *args: Any, **kwargs: Any) -> Any:
        batch = await getmany(self, *args, **kwargs)
        if batch:
            fetched.append(set(batch))
        return batch

    monkeypatch.setattr(AIOKafkaConsumer, "getmany", recording)
    held, release = asyncio.Event(), asyncio.Event()

    async def hold(event: CloudEvent[Any]) -> None:
        # After the first event's transaction committed, before the batch's offsets are.
        held.set()
        await release.wait()

    first = probe.consumer(engine, kafka, group, after_commit=hold)
    async with running(Relay(engine, probe.tables.outbox, kafka, name="probe"), first):
        await asyncio.wait_for(held.wait(), 60)
        clients = first._consumer
        in_flight = fetched[0]
        async with another_member(kafka, group, topic) as second:
            await eventually(split_between(first, second, everything), timeout=60, what="split")
            lost = in_flight - first.partitions
            assert lost, f"the batch in flight ({in_flight}) spans a partition moved away"
            release.set()

            async def commit_decided() -> bool:
                return any(
                    "left uncommitted" in r.getMessage() or r.levelno >= logging.WARNING
                    for r in caplog.records
                    if r.name.startswith("shared_schemas")
                )

            await eventually(commit_decided, timeout=30, what="the batch's commit decided")
        # The other member left: this one owns every partition again, reads the batch's
        # records again from the last commit and skips the ones applied.
        await eventually(
            lambda: applied_at_least(engine, probe, len(sent)), timeout=60, what="all applied"
        )

        async def redelivered_and_skipped() -> bool:
            return duplicates_skipped(group) > 0

        await eventually(redelivered_and_skipped, timeout=60, what="redelivery skipped")
        assert first._consumer is clients, "the consumer kept its clients (no restart)"

    assert Counter(await probe.applied_event_ids(engine)) == Counter(sent), "each once"
    ours = [r for r in caplog.records if r.name.startswith("shared_schemas.messaging")]
    assert [r.getMessage() for r in ours if r.levelno >= logging.WARNING] == []
    # (The other member's leaving may catch a later batch in flight too.)
    skipped = [r.getMessage() for r in ours if "left uncommitted" in r.getMessage()]
    assert skipped, "the skipped commit is logged"
    for tp in lost:
        assert f"{tp.topic}[{tp.partition}]@" in skipped[0]
    refused = [r for r in caplog.records if "OffsetCommit failed" in r.getMessage()]
    assert refused == [], "no commit refused by the broker (which makes aiokafka rejoin)"


async def test_a_member_reports_lag_only_for_the_partitions_it_owns(
    engine: AsyncEngine, probe: ProbeService, kafka: KafkaSettings, topic: str
) -> None:
    """Partitions revoked in a rebalance lose their `consumer_lag` series in this process:
    a stale one would show lag on a member that no longer reads the partition (and count
    twice in a sum across replicas). Partitions that come back are reported again."""
    group = await new_consumer_group(kafka)
    everything = {TopicPartition(topic, partition) for partition in range(3)}
    await probe.write_many(engine, [(uuid.uuid4(), 1) for _ in range(24)], 24)

    def lag_reported_for(
        expected: Callable[[], set[TopicPartition]],
    ) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return lag_series(group) == expected()

        return check

    first = probe.consumer(engine, kafka, group, batch_size=100)
    async with running(Relay(engine, probe.tables.outbox, kafka, name="probe"), first):
        await eventually(lag_reported_for(lambda: everything), timeout=60, what="all reported")
        async with another_member(kafka, group, topic) as second:
            await eventually(split_between(first, second, everything), timeout=60, what="split")
            await eventually(
                lag_reported_for(lambda: set(first.partitions)),
                timeout=15,
                what="lag reported for its own partitions only",
            )
            assert lag_series(group) == everything - set(second.assignment())

        async def owns_everything() -> bool:
            return first.partitions == everything

        await eventually(owns_everything, timeout=60, what="partitions back")
        await eventually(lag_reported_for(lambda: everything), timeout=15, what="all again")
    assert lag_series(group) == set(), "a stopped consumer reports no lag"


async def test_a_consumer_stopped_after_the_broker_died_exits_cleanly_with_one_warning(
    database_url: str, engine: AsyncEngine, probe: ProbeService, topic: str, tmp_path: Path
) -> None:
    """SIGTERM to a consumer whose broker is gone: exit code 0 within the grace period,
    one warning saying so, no traceback. (aiokafka's stop then ends in the cancellation of
    its own pending fetches, a bug of the aio-libs/aiokafka#647 kind, which used to escape
    and exit the process with 1.)"""
    group = f"probe-{uuid.uuid4().hex[:8]}"
    private = EmbeddedBroker(free_port(), topics=[(topic, 3), (f"dlq.{group}", 1)])
    await private.start()
    kafka = KafkaSettings(bootstrap_servers=private.bootstrap_servers, session_timeout_ms=6_000)
    log_path = tmp_path / "consumer.log"
    consumer = WorkerProcess(
        "consumer",
        database_url=database_url,
        bootstrap=kafka.bootstrap_servers,
        topic=topic,
        group=group,
        log_path=log_path,
    )
    try:
        await probe.write_many(engine, [(uuid.uuid4(), 1) for _ in range(20)], 10)
        async with running(Relay(engine, probe.tables.outbox, kafka, name="probe")):
            await eventually(
                lambda: applied_at_least(engine, probe, 20), timeout=60, what="consuming"
            )
        private.stop()
        await asyncio.sleep(1)  # its clients notice: fetches and heartbeats fail
        before = log_path.stat().st_size
        started = time.monotonic()
        consumer.process.terminate()
        code = await asyncio.to_thread(consumer.process.wait, GRACE_PERIOD_SECONDS + 10)
        took = time.monotonic() - started
    finally:
        consumer.stop()
        private.stop()
    with log_path.open("rb") as log:
        log.seek(before)
        after = log.read().decode(errors="replace")
    assert code == 0, after
    assert took < GRACE_PERIOD_SECONDS, f"stopping took {took:.1f}s"
    assert "Traceback" not in after, after
    assert "Unclosed" not in after, after
    ours = [line for line in after.splitlines() if line.startswith(f"consumer {group}:")]
    assert len(ours) == 1, after
    assert "stopped without the broker answering" in ours[0]


async def test_a_consumer_asked_to_stop_while_committing_to_a_frozen_broker_exits_in_time(
    engine: AsyncEngine,
    probe: ProbeService,
    kafka: KafkaSettings,
    broker: EmbeddedBroker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """aiokafka retries an offset commit for as long as the broker does not answer: a stop
    requested meanwhile gives up on it after a grace period (the records are redelivered
    and skipped after a restart) instead of waiting for the broker. Whether the commit is
    still waiting when the stop arrives is the client's timing, not the test's: either
    way the stop ends in time, without an error, and says at most once what it gave up."""
    caplog.set_level(logging.INFO)
    group = await new_consumer_group(kafka)
    await probe.write_many(engine, [(uuid.uuid4(), 1) for _ in range(6)], 6)
    held, release = asyncio.Event(), asyncio.Event()

    async def hold(event: CloudEvent[Any]) -> None:
        held.set()
        await release.wait()

    consumer = probe.consumer(engine, kafka, group, after_commit=hold, batch_size=100)
    async with running(Relay(engine, probe.tables.outbox, kafka, name="probe")):
        task = asyncio.create_task(consumer.run())
        await asyncio.wait_for(held.wait(), 60)
    broker.pause()
    try:
        release.set()  # the batch ends; its commit goes to the frozen broker
        await asyncio.sleep(1)
        started = time.monotonic()
        consumer.request_stop()
        done, _ = await asyncio.wait({task}, timeout=GRACE_PERIOD_SECONDS)
        took = time.monotonic() - started
    finally:
        broker.resume()
        if not task.done():
            task.cancel()
    assert done, f"still stopping after {GRACE_PERIOD_SECONDS}s"
    assert task.exception() is None
    assert took < GRACE_PERIOD_SECONDS
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("shared_schemas.messaging") and r.levelno >= logging.WARNING
    ]
    assert len(warnings) <= 1, warnings
    assert all("stopped without the broker answering" in warning for warning in warnings)
