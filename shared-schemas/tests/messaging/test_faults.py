"""Fault injection against the real broker: pause, crash points, poison messages."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.broker import EmbeddedBroker
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
from tests.support.probe import ProbeService, probe_event
from tests.support.processes import WorkerProcess

pytestmark = pytest.mark.reliability


async def applied_at_least(engine: AsyncEngine, probe: ProbeService, expected: int) -> bool:
    return await probe.applied_count(engine) >= expected


async def test_events_recorded_while_broker_paused_are_all_delivered(
    engine: AsyncEngine, probe: ProbeService, kafka: KafkaSettings, broker: EmbeddedBroker
) -> None:
    relay = Relay(engine, probe.tables.outbox, kafka, name="probe", max_backoff=1.0)
    consumer = probe.consumer(engine, kafka, await new_consumer_group(kafka))
    items = [(uuid.uuid4(), 1) for _ in range(1000)]
    async with running(relay, consumer):
        await asyncio.wait_for(consumer.assigned.wait(), 30)
        broker.pause()
        try:
            sent = await probe.write_many(engine, items, per_transaction=10)
            assert await probe.applied_count(engine) == 0
        finally:
            broker.resume()
        await eventually(
            lambda: applied_at_least(engine, probe, 1000), timeout=120, what="1,000 applied"
        )
    applied = await probe.applied_event_ids(engine)
    assert len(applied) == 1000
    assert set(applied) == set(sent), "an event was lost or invented"
    assert len(set(applied)) == 1000, "an event had its effect twice"


async def test_the_relay_outlasts_a_broker_frozen_past_its_delivery_timeout(
    engine: AsyncEngine, probe: ProbeService, kafka: KafkaSettings, broker: EmbeddedBroker
) -> None:
    # Sends wait twice the request timeout for the broker's acknowledgement: 2 s here.
    impatient = kafka.model_copy(update={"request_timeout_ms": 1_000})
    relay = Relay(engine, probe.tables.outbox, impatient, name="probe", max_backoff=0.5)
    consumer = probe.consumer(engine, kafka, await new_consumer_group(kafka))
    retries = relay_retries()

    async def retried_while_frozen() -> bool:
        return relay_retries() > retries

    async with running(relay, consumer):
        await asyncio.wait_for(consumer.assigned.wait(), 30)
        broker.pause()
        try:
            sent = await probe.write_many(engine, [(uuid.uuid4(), 1) for _ in range(100)], 10)
            await eventually(retried_while_frozen, timeout=30, what="a failed publish retried")
        finally:
            broker.resume()
        await eventually(
            lambda: applied_at_least(engine, probe, 100), timeout=120, what="100 applied"
        )
    applied = await probe.applied_event_ids(engine)
    assert Counter(applied) == Counter(sent), "every event applied exactly once"


def relay_retries() -> float:
    return REGISTRY.get_sample_value("relay_retries_total") or 0.0


@pytest.mark.parametrize("batch_size", [1, 100], ids=["one-per-transaction", "batches"])
async def test_consumer_killed_after_db_commit_applies_each_event_once_after_restart(
    database_url: str,
    engine: AsyncEngine,
    probe: ProbeService,
    kafka: KafkaSettings,
    topic: str,
    tmp_path: Path,
    batch_size: int,
) -> None:
    group = await new_consumer_group(kafka)
    sent = await probe.write_many(engine, [(uuid.uuid4(), 1) for _ in range(200)], 20)
    common: dict[str, Any] = {
        "database_url": database_url,
        "bootstrap": kafka.bootstrap_servers,
        "topic": topic,
        "group": group,
        "extra_args": ["--batch-size", str(batch_size)],
    }
    relay = Relay(engine, probe.tables.outbox, kafka, name="probe")
    async with running(relay):
        doomed = WorkerProcess(
            "consumer",
            block_after=50,
            marker=tmp_path / "blocked",
            log_path=tmp_path / "consumer-1.log",
            **common,
        )
        try:
            await doomed.wait_until_blocked()
        finally:
            doomed.kill()
        applied_before_crash = await probe.applied_count(engine)
        assert applied_before_crash >= 50

        successor = WorkerProcess("consumer", log_path=tmp_path / "consumer-2.log", **common)
        try:
            await eventually(
                lambda: applied_at_least(engine, probe, 200), timeout=90, what="all applied"
            )
        finally:
            successor.stop()
    applied = await probe.applied_event_ids(engine)
    assert Counter(applied) == Counter(sent), "every event applied exactly once"


async def test_relay_killed_between_send_and_mark_duplicates_on_topic_but_single_effect(
    database_url: str,
    engine: AsyncEngine,
    probe: ProbeService,
    kafka: KafkaSettings,
    topic: str,
    tmp_path: Path,
) -> None:
    sent = await probe.write_many(engine, [(uuid.uuid4(), 1) for _ in range(20)], 5)
    common = {"database_url": database_url, "bootstrap": kafka.bootstrap_servers, "topic": topic}
    consumer = probe.consumer(engine, kafka, await new_consumer_group(kafka))
    async with running(consumer):
        doomed = WorkerProcess(
            "relay",
            block_after=1,
            marker=tmp_path / "blocked",
            log_path=tmp_path / "relay-1.log",
            **common,
        )
        try:
            await doomed.wait_until_blocked()
        finally:
            doomed.kill()
        successor = WorkerProcess("relay", log_path=tmp_path / "relay-2.log", **common)
        try:
            await eventually(
                lambda: applied_at_least(engine, probe, 20), timeout=60, what="all applied"
            )
            await eventually(
                lambda: _all_published(engine, probe), timeout=30, what="outbox drained"
            )
        finally:
            successor.stop()

    on_topic = Counter(json.loads(record.value)["id"] for record in await read_topic(kafka, topic))
    assert set(on_topic) == {str(event_id) for event_id in sent}
    assert max(on_topic.values()) == 2, "the crash left duplicates on the topic"
    applied = await probe.applied_event_ids(engine)
    assert Counter(applied) == Counter(sent), "each duplicate had a single effect"


async def _all_published(engine: AsyncEngine, probe: ProbeService) -> bool:
    return await probe.outbox_count(engine, unpublished=True) == 0


async def test_poison_messages_go_to_dlq_and_later_messages_on_the_partition_are_processed(
    engine: AsyncEngine, probe: ProbeService, kafka: KafkaSettings, topic: str
) -> None:
    group = await new_consumer_group(kafka)
    key = str(uuid.uuid4())
    good = [uuid.uuid4() for _ in range(3)]

    def envelope(data: dict[str, object], event_type: str | None = None) -> bytes:
        return json.dumps(
            {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": "test",
                "type": event_type or probe.event.event_type,
                "subject": key,
                "time": "2026-11-22T10:00:00Z",
                "actor": "test",
                "data": data,
            }
        ).encode()

    def valid(probe_id: uuid.UUID, *, fail: bool = False) -> bytes:
        data = probe.event(probe_id=probe_id, seq=1, version=1, fail=fail)
        return new_event(data, source="test", actor="test").model_dump_json().encode()

    # Everything on one key, hence one partition, poison first.
    messages = [
        b"{not json",
        envelope({"version": 1, "seq": "not a number"}),
        valid(uuid.uuid4(), fail=True),
        *(valid(probe_id) for probe_id in good),
    ]
    await produce_raw(kafka, topic, [(key.encode(), value) for value in messages])

    consumer = probe.consumer(
        engine, kafka, group, max_attempts=3, retry_base=0.05, max_backoff=0.2
    )
    async with running(consumer):
        await eventually(
            lambda: _applied_probe_ids(engine, probe, set(good)), timeout=60, what="good applied"
        )
    dead = await read_topic(kafka, f"dlq.{group}")
    reasons = [dict(record.headers)["dlq-reason"].decode() for record in dead]
    assert reasons == ["malformed", "invalid", "failed"]
    errors = [dict(record.headers)["dlq-error"].decode() for record in dead]
    assert "refuses to be applied" in errors[2]
    assert all(dict(r.headers)["dlq-original-topic"].decode() == topic for r in dead)
    assert [record.value for record in dead] == messages[:3]


async def _applied_probe_ids(
    engine: AsyncEngine, probe: ProbeService, expected: set[uuid.UUID]
) -> bool:
    return set(await probe.applied_versions(engine)) == expected


async def test_unknown_types_newer_versions_and_extra_fields_are_tolerated(
    engine: AsyncEngine, probe: ProbeService, kafka: KafkaSettings, topic: str
) -> None:
    group = await new_consumer_group(kafka)
    newer = probe_event(topic, version=2)
    known, future = uuid.uuid4(), uuid.uuid4()
    with_extra = json.loads(
        new_event(
            probe.event(probe_id=known, seq=1, version=1), source="t", actor="t"
        ).model_dump_json()
    )
    with_extra["data"]["added_later"] = {"any": "thing"}
    with_extra["newextension"] = "x"
    messages = [
        new_event(newer(probe_id=future, seq=1, version=1), source="t", actor="t")
        .model_dump_json()
        .encode(),
        json.dumps(with_extra).encode(),
    ]
    await produce_raw(kafka, topic, [(b"k", value) for value in messages])
    async with running(probe.consumer(engine, kafka, group)):
        await eventually(lambda: _applied_probe_ids(engine, probe, {known}), what="v1 applied")
    assert await read_topic(kafka, f"dlq.{group}") == []
