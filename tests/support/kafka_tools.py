"""Waiting for asynchronous outcomes, reading and writing topics and running workers inside
a test."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from shared_schemas.events.base import CLOUDEVENTS_CONTENT_TYPE, CloudEvent, EventData, new_event
from shared_schemas.messaging.kafka import KafkaSettings, ensure_topics


async def new_consumer_group(kafka: KafkaSettings) -> str:
    """A consumer group of the test's own, with its dead-letter topic."""
    group = f"probe-{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka, [(f"dlq.{group}", 1)])
    return group


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout: float = 30.0, what: str = "condition"
) -> None:
    """Poll `check` until it is true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        await asyncio.sleep(0.05)


async def until(
    read: Callable[[], Awaitable[Any]], condition: Callable[[Any], bool], what: str
) -> Any:
    """Read until `condition` holds on what was read; return that. Fails after 30 s with
    the last thing read."""
    seen: list[Any] = []

    async def check() -> bool:
        seen.append(await read())
        return condition(seen[-1])

    try:
        await eventually(check, timeout=30, what=what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last seen: {seen[-1] if seen else None}") from None
    return seen[-1]


async def read_topic(kafka: KafkaSettings, topic: str) -> list[ConsumerRecord]:
    """Every record currently on `topic`, read without a consumer group."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, enable_auto_commit=False, fetch_max_wait_ms=10
    )
    await consumer.start()
    try:
        partitions = await _partitions(consumer, [topic])
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        while await _behind(consumer, partitions, ends):
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                records.extend(messages)
        return records
    finally:
        await consumer.stop()


async def start_at_end(kafka: KafkaSettings, group: str, topics: Sequence[str]) -> None:
    """Commit offsets for a new consumer `group` at the current end of `topics`, so it reads
    only what is produced from now on (a new group otherwise starts at the beginning)."""
    consumer = kafka.consumer(group)
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topics)
        consumer.assign(partitions)
        await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topics: Sequence[str]) -> list[TopicPartition]:
    def known() -> list[TopicPartition]:
        return [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]

    if len({tp.topic for tp in known()}) < len(set(topics)):
        await consumer.force_metadata_update()
    return known()


async def _behind(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], ends: dict[TopicPartition, int]
) -> bool:
    for tp in partitions:
        if await consumer.position(tp) < ends[tp]:
            return True
    return False


async def produce_raw(
    kafka: KafkaSettings, topic: str, messages: list[tuple[bytes, bytes]]
) -> None:
    """Put (key, value) pairs on `topic` as they are, bypassing the outbox."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


class PeerOnTheBroker:
    """The other service as a consumer meets it: its CloudEvents on the real topics, keyed
    by aggregate, from `source` (`crm-service` or `erp-service`)."""

    def __init__(self, producer: AIOKafkaProducer, source: str) -> None:
        self.producer = producer
        self.source = source

    async def publish(self, data: EventData) -> CloudEvent[Any]:
        event = new_event(data, source=self.source, actor=self.source)
        await self.deliver(event)
        return event

    async def deliver(self, event: CloudEvent[Any]) -> None:
        """Put an event (new, or one already delivered: a redelivery) on its topic."""
        await self.producer.send_and_wait(
            event.data.topic,
            key=event.subject.encode(),
            value=event.model_dump_json().encode(),
            headers=[("content-type", CLOUDEVENTS_CONTENT_TYPE.encode())],
        )


class Worker(Protocol):
    def run(self) -> Awaitable[Any]: ...
    def request_stop(self) -> None: ...


@contextlib.asynccontextmanager
async def running(*workers: Worker) -> AsyncIterator[None]:
    """Run relays, consumers or job runners as tasks for the duration of the block."""
    tasks = [asyncio.create_task(worker.run()) for worker in workers]
    try:
        yield
    finally:
        for worker in workers:
            worker.request_stop()
        done, pending = await asyncio.wait(tasks, timeout=20)
        for task in pending:
            task.cancel()
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
