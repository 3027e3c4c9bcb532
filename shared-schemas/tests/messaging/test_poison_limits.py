"""Poison messages at the edges of what the consumer can read or pass on: JSON nested
deeper than any parser goes, and a record too large to be copied to the dead-letter topic.
Each is dead-lettered and logged, and the partition's later messages are applied."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.events.base import new_event
from shared_schemas.messaging.dead_letters import DeadLetterLog
from shared_schemas.messaging.kafka import KafkaSettings
from tests.support.kafka_tools import eventually, new_consumer_group, read_topic, running
from tests.support.probe import ProbeService

pytestmark = pytest.mark.integration


def valid(probe: ProbeService, probe_id: uuid.UUID) -> bytes:
    data = probe.event(probe_id=probe_id, seq=1, version=1)
    return new_event(data, source="test", actor="test").model_dump_json().encode()


async def produce(kafka: KafkaSettings, topic: str, key: bytes, values: list[bytes]) -> None:
    # A foreign producer allowed larger requests than ours (the broker enforces no limit).
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers, acks="all", max_request_size=4 * 1024 * 1024
    )
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


async def applied(engine: AsyncEngine, probe: ProbeService, probe_id: uuid.UUID) -> bool:
    return probe_id in set(await probe.applied_versions(engine))


@pytest.mark.parametrize(
    "poison",
    [
        pytest.param(b"[" * 100_000, id="nested-arrays"),
        pytest.param(b'{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", id="nested-field"),
    ],
)
async def test_json_nested_too_deep_is_dead_lettered_and_the_partition_moves_on(
    engine: AsyncEngine, probe: ProbeService, kafka: KafkaSettings, topic: str, poison: bytes
) -> None:
    group = await new_consumer_group(kafka)
    key, good = b"one-key", uuid.uuid4()
    await produce(kafka, topic, key, [poison, valid(probe, good)])
    log = DeadLetterLog(engine, probe.tables.dead_letters, group)
    consumer = probe.consumer(engine, kafka, group, dead_letters=log)
    async with running(consumer):
        await eventually(lambda: applied(engine, probe, good), what="the later event applied")
    [letter] = await log.page(limit=10, after_id=None, status=None)
    assert (letter["reason"], letter["event_id"], letter["event_type"]) == ("malformed", None, None)
    [dead] = await read_topic(kafka, f"dlq.{group}")
    assert dead.value == poison


async def test_a_record_too_large_for_the_dead_letter_topic_is_logged_whole_and_skipped(
    engine: AsyncEngine, probe: ProbeService, kafka: KafkaSettings, topic: str
) -> None:
    group = await new_consumer_group(kafka)
    key, good = b"one-key", uuid.uuid4()
    # Valid JSON, but not an event: 1.5 MB, more than our producers send in one request.
    huge = b'{"padding": "' + b"x" * 1_500_000 + b'"}'
    await produce(kafka, topic, key, [huge, valid(probe, good)])
    log = DeadLetterLog(engine, probe.tables.dead_letters, group)
    consumer = probe.consumer(engine, kafka, group, dead_letters=log)
    async with running(consumer):
        await eventually(lambda: applied(engine, probe, good), what="the later event applied")
    [letter] = await log.page(limit=10, after_id=None, status=None)
    assert letter["reason"] == "malformed"
    table = probe.tables.dead_letters
    async with engine.connect() as connection:
        kept = (await connection.execute(select(table.c.value))).scalar_one()
    assert bytes(kept) == huge, "the database keeps the whole message for a replay"
    [dead] = await read_topic(kafka, f"dlq.{group}")
    headers = {name: value.decode() for name, value in dead.headers}
    assert dead.value == b""
    assert headers["dlq-reason"] == "malformed"
    assert headers["dlq-value-omitted"] == str(len(huge))
    assert headers["dlq-original-offset"] == "0"
