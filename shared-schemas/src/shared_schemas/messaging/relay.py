"""The relay: publishes outbox rows to Kafka in order per aggregate key, then marks them."""

from __future__ import annotations

import asyncio
import logging
import uuid
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared_schemas.database import READ_ONLY
from shared_schemas.messaging.backoff import Backoff
from shared_schemas.messaging.kafka import KafkaSettings, TopicsMissing, missing_topics
from shared_schemas.messaging.lifecycle import stop_within
from shared_schemas.messaging.metrics import (
    EVENTS_PUBLISHED,
    RELAY_MISSING_TOPICS,
    RELAY_RETRIES,
    refresh_outbox_gauges,
)
from shared_schemas.messaging.outbox import notify_channel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingEvent:
    id: int
    event_id: uuid.UUID
    topic: str
    key: str
    payload: bytes
    headers: dict[str, str]


AfterSend = Callable[[Sequence[PendingEvent]], Awaitable[None]]


class PublishFailed(Exception):
    """Some events of a batch were not acknowledged in time; they stay pending."""


RETRYABLE = (
    KafkaError,
    OSError,
    asyncio.TimeoutError,
    SQLAlchemyError,
    asyncpg.PostgresError,
    PublishFailed,
)


class Relay:
    """Publishes what services record in `outbox`.

    On PostgreSQL several relays may run: each batch is claimed per key bucket with a
    transaction-scoped advisory lock held until the batch is marked, so one key is only
    ever published by one relay at a time, in id order. On SQLite a single relay runs.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        outbox: Table,
        kafka: KafkaSettings,
        *,
        name: str,
        batch_size: int = 500,
        poll_interval: float = 0.05,
        notify_fallback_interval: float = 1.0,
        gauge_interval: float = 5.0,
        max_backoff: float = 5.0,
        after_send: AfterSend | None = None,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.kafka = kafka
        self.name = name
        self.batch_size = batch_size
        self.after_send = after_send
        self.gauge_interval = gauge_interval
        self._postgres = engine.dialect.name == "postgresql"
        self._idle_wait = notify_fallback_interval if self._postgres else poll_interval
        self._lock_class = zlib.crc32(f"relay:{outbox.name}".encode()) & 0x7FFFFFFF
        self._backoff = Backoff(cap=max_backoff)
        self._wake = asyncio.Event()
        self._stopping = False
        self._listener: asyncpg.Connection | None = None
        self._producer: AIOKafkaProducer | None = None
        self._existing_topics: set[str] = set()
        self._c = outbox.c

    def request_stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Publish until `request_stop()`; broker or database outages are waited out."""
        next_gauges = 0.0
        loop = asyncio.get_running_loop()
        try:
            while not self._stopping:
                # Before publishing, so the gauges follow the outbox while the broker is
                # away too: that is when the backlog grows and the alert must fire.
                if loop.time() >= next_gauges:
                    next_gauges = loop.time() + self.gauge_interval
                    await self._refresh_gauges()
                try:
                    await self._ensure_listener()
                    producer = await self._ensure_producer()
                    self._wake.clear()
                    published = await self.publish_pending(producer)
                    self._backoff.reset()
                    if published:
                        continue
                    await self._sleep(self._idle_wait)
                except RETRYABLE as exc:
                    RELAY_RETRIES.inc()
                    # The broker may have lost its topics too: check them again.
                    self._existing_topics.clear()
                    delay = self._backoff.next_delay()
                    log.warning("relay %s: %s; retrying in %.2fs", self.name, exc, delay)
                    await self._sleep(delay)
        finally:
            await self._close()

    async def _refresh_gauges(self) -> None:
        try:
            await refresh_outbox_gauges(self.engine, self.outbox)
        except (SQLAlchemyError, OSError, asyncpg.PostgresError) as exc:
            # The database is away: the publishing loop waits it out and says so.
            log.debug("relay %s: outbox gauges not refreshed: %s", self.name, exc)

    async def publish_pending(self, producer: AIOKafkaProducer) -> int:
        """Publish one batch of pending events; return how many were published."""
        if self._postgres:
            return await self._publish_claimed_buckets(producer)
        return await self._publish_single(producer)

    async def _publish_claimed_buckets(self, producer: AIOKafkaProducer) -> int:
        async with self.engine.connect() as connection, connection.begin():
            buckets = await self._lock_pending_buckets(connection)
            if not buckets:
                return 0
            rows = await self._pending(connection, buckets)
            sent = await self._send(producer, rows)
            await self._mark(connection, sent)
        if len(sent) < len(rows):
            raise PublishFailed(f"{len(rows) - len(sent)} events not acknowledged")
        return len(sent)

    async def _publish_single(self, producer: AIOKafkaProducer) -> int:
        async with self.engine.connect() as connection:
            reader = await connection.execution_options(**READ_ONLY)
            async with reader.begin():
                rows = await self._pending(reader, None)
        if not rows:
            return 0
        sent = await self._send(producer, rows)
        async with self.engine.begin() as writer:
            await self._mark(writer, sent)
        if len(sent) < len(rows):
            raise PublishFailed(f"{len(rows) - len(sent)} events not acknowledged")
        return len(sent)

    async def _lock_pending_buckets(self, connection: AsyncConnection) -> list[int]:
        c = self._c
        pending = select(c.bucket).where(c.published_at.is_(None)).distinct().subquery()
        result = await connection.execute(
            select(pending.c.bucket).where(
                func.pg_try_advisory_xact_lock(self._lock_class, pending.c.bucket)
            )
        )
        return [int(bucket) for bucket in result.scalars()]

    async def _pending(
        self, connection: AsyncConnection, buckets: list[int] | None
    ) -> list[PendingEvent]:
        c = self._c
        query = (
            select(c.id, c.event_id, c.topic, c.key, c.payload, c.headers)
            .where(c.published_at.is_(None))
            .order_by(c.id)
            .limit(self.batch_size)
        )
        if buckets is not None:
            query = query.where(c.bucket.in_(buckets))
        result = await connection.execute(query)
        return [
            PendingEvent(
                id=row.id,
                event_id=row.event_id,
                topic=row.topic,
                key=row.key,
                payload=bytes(row.payload),
                headers=dict(row.headers),
            )
            for row in result
        ]

    async def _send(
        self, producer: AIOKafkaProducer, rows: list[PendingEvent]
    ) -> list[PendingEvent]:
        """Send `rows` in order and return those the broker acknowledged.

        A send that times out may still have been written (no idempotent producer on
        the embedded broker): it stays pending and is sent again, and consumers drop
        the duplicate through their inbox.
        """
        await self._require_topics({row.topic for row in rows})
        deliveries: list[asyncio.Future[Any]] = []
        try:
            for row in rows:
                deliveries.append(
                    await producer.send(
                        row.topic,
                        value=row.payload,
                        key=row.key.encode(),
                        headers=[(name, value.encode()) for name, value in row.headers.items()],
                    )
                )
        except RETRYABLE as exc:
            log.warning("relay %s: send refused: %s", self.name, exc)
        timeout = self.kafka.request_timeout_ms / 1000 * 2
        done, _ = await asyncio.wait(deliveries, timeout=timeout) if deliveries else (set(), set())
        delivered = [d in done and d.exception() is None for d in deliveries]
        acknowledged = acknowledged_in_key_order(rows, delivered)
        for row in acknowledged:
            EVENTS_PUBLISHED.labels(row.topic).inc()
        if acknowledged and self.after_send is not None:
            await self.after_send(acknowledged)
        return acknowledged

    async def _require_topics(self, topics: set[str]) -> None:
        """Publish only to topics that exist: producing to a missing one may make the
        broker create it with its own partition count. Each topic is checked once."""
        unseen = topics - self._existing_topics
        if not unseen:
            return
        missing = await missing_topics(self.kafka, unseen)
        RELAY_MISSING_TOPICS.labels(self.name).set(len(missing))
        if missing:
            raise TopicsMissing(missing)
        self._existing_topics |= unseen

    async def _mark(self, connection: AsyncConnection, rows: list[PendingEvent]) -> None:
        if not rows:
            return
        await connection.execute(
            update(self.outbox)
            .where(self._c.id.in_(bindparam("ids", expanding=True)))
            .values(published_at=datetime.now(UTC)),
            {"ids": [row.id for row in rows]},
        )

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        producer = self.kafka.producer(f"relay-{self.name}")
        try:
            await producer.start()
        except BaseException:
            await stop_within(producer.stop())
            raise
        self._producer = producer
        return producer

    async def _ensure_listener(self) -> None:
        if not self._postgres or (self._listener is not None and not self._listener.is_closed()):
            return
        url = self.engine.url.set(drivername="postgresql")
        connection = await asyncpg.connect(url.render_as_string(hide_password=False))
        await connection.add_listener(notify_channel(self.outbox), self._on_notify)
        self._listener = connection

    def _on_notify(self, *_args: object) -> None:
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        if self._stopping:
            return
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except TimeoutError:
            return

    async def _close(self) -> None:
        if self._producer is not None:
            await stop_within(self._producer.stop())
            self._producer = None
        if self._listener is not None and not self._listener.is_closed():
            await stop_within(self._listener.close())
        self._listener = None


def acknowledged_in_key_order(
    rows: Sequence[PendingEvent], delivered: Sequence[bool]
) -> list[PendingEvent]:
    """The rows to mark published: each delivered one not preceded by an undelivered row
    of its key (rows not sent at all count as undelivered). An aggregate's events are
    thus published as an unbroken prefix: the next attempt sends the failed event and
    everything after it again, in order, so the last copy on the topic of each event
    comes after its predecessor's (consumers drop the copies they applied, inbox)."""
    acknowledged: list[PendingEvent] = []
    held_back: set[tuple[str, str]] = set()
    for index, row in enumerate(rows):
        stream = (row.topic, row.key)
        if index < len(delivered) and delivered[index] and stream not in held_back:
            acknowledged.append(row)
        else:
            held_back.add(stream)
    return acknowledged


async def republish(engine: AsyncEngine, outbox: Table, since: datetime) -> int:
    """Mark every event recorded since `since` as pending again, for a broker that lost it.

    The relay then publishes them in their original order; consumers skip the ones they
    already applied.
    """
    async with engine.begin() as connection:
        result = await connection.execute(
            update(outbox)
            .where(outbox.c.created_at >= since, outbox.c.published_at.is_not(None))
            .values(published_at=None)
        )
        if engine.dialect.name == "postgresql":
            await connection.execute(select(func.pg_notify(notify_channel(outbox), "")))
    return int(result.rowcount)


async def prune_published(engine: AsyncEngine, outbox: Table, retention: timedelta) -> int:
    """Delete published events older than `retention` (they stay republishable until then)."""
    cutoff = datetime.now(UTC) - retention
    async with engine.begin() as connection:
        result = await connection.execute(
            delete(outbox).where(outbox.c.published_at.is_not(None), outbox.c.published_at < cutoff)
        )
    return int(result.rowcount)
