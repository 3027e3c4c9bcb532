"""A service's background processes: relay (+ periodic jobs) and consumer, and how they run."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from prometheus_client import start_http_server
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.database import session_factory
from shared_schemas.events.base import EventData
from shared_schemas.http.idempotency import prune_idempotency_keys
from shared_schemas.messaging.applier import EventApplier, Handler
from shared_schemas.messaging.consumer import Consumer
from shared_schemas.messaging.dead_letters import DeadLetterLog
from shared_schemas.messaging.jobs import JobRunner, PeriodicJob
from shared_schemas.messaging.kafka import KafkaSettings
from shared_schemas.messaging.relay import Relay, prune_published
from shared_schemas.messaging.tables import MessagingTables

log = logging.getLogger(__name__)


@dataclass
class Workers:
    """Everything a service needs to run its relay, jobs and consumer."""

    name: str
    engine: AsyncEngine
    tables: MessagingTables
    kafka: KafkaSettings
    handlers: Mapping[type[EventData], Handler] = field(default_factory=dict)
    jobs: Sequence[PeriodicJob] = ()
    outbox_retention: timedelta = timedelta(days=7)
    inbox_retention: timedelta = timedelta(days=30)
    idempotency_ttl: timedelta = timedelta(hours=24)
    # How long a claimed Idempotency-Key may stay without effect before a retry takes it
    # over; None when the service's writes do not mark claims (they go through no unit of
    # work), so a claimed key is never run again.
    idempotency_lease: timedelta | None = timedelta(minutes=1)
    # Events applied per transaction by the consumer (1: one transaction per event).
    consumer_batch_size: int = 100
    # The consumer group (and its dead-letter topic); the service's name unless set.
    consumer_group: str | None = None

    def relay(self) -> Relay:
        return Relay(self.engine, self.tables.outbox, self.kafka, name=self.name)

    @property
    def group(self) -> str:
        return self.consumer_group or self.name

    def applier(self) -> EventApplier:
        return EventApplier(
            group=self.group,
            sessions=session_factory(self.engine),
            inbox=self.tables.inbox,
            handlers=self.handlers,
        )

    def dead_letter_log(self) -> DeadLetterLog:
        return DeadLetterLog(self.engine, self.tables.dead_letters, self.group)

    def consumer(self) -> Consumer:
        return Consumer(
            group=self.group,
            sessions=session_factory(self.engine),
            inbox=self.tables.inbox,
            handlers=self.handlers,
            kafka=self.kafka,
            dead_letters=self.dead_letter_log(),
            batch_size=self.consumer_batch_size,
        )

    def job_runner(self) -> JobRunner:
        housekeeping = [
            PeriodicJob("prune-outbox", timedelta(hours=1), self._prune_outbox),
            PeriodicJob("prune-inbox", timedelta(hours=1), self._prune_inbox),
            PeriodicJob("prune-idempotency-keys", timedelta(hours=1), self._prune_keys),
        ]
        return JobRunner(self.engine, self.tables.job_runs, [*housekeeping, *self.jobs])

    async def _prune_outbox(self) -> int:
        return await prune_published(self.engine, self.tables.outbox, self.outbox_retention)

    async def _prune_keys(self) -> int:
        return await prune_idempotency_keys(
            self.engine, self.tables.idempotency_keys, self.idempotency_ttl
        )

    async def _prune_inbox(self) -> int:
        # Kept longer than the outbox so a republish never meets a forgotten event id.
        inbox = self.tables.inbox
        cutoff = datetime.now(UTC) - self.inbox_retention
        async with self.engine.begin() as connection:
            result = await connection.execute(delete(inbox).where(inbox.c.processed_at < cutoff))
        return int(result.rowcount)


async def run_background(workers: Workers, *, relay: bool, consumer: bool) -> None:
    """Run the relay with the periodic jobs and/or the consumer until SIGINT or SIGTERM."""
    stoppers: list[Callable[[], None]] = []
    tasks = []
    if relay:
        publisher, jobs = workers.relay(), workers.job_runner()
        stoppers += [publisher.request_stop, jobs.request_stop]
        tasks += [publisher.run(), jobs.run()]
    if consumer:
        applier = workers.consumer()
        stoppers.append(applier.request_stop)
        tasks.append(applier.run())
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, partial(_stop_all, stoppers))
    try:
        await asyncio.gather(*tasks)
    finally:
        await workers.engine.dispose()


def _stop_all(stoppers: list[Callable[[], None]]) -> None:
    for stop in stoppers:
        stop()


def serve_process_metrics(host: str, port: int) -> None:
    """Expose this process's metrics (relay and consumer processes have no HTTP API)."""
    if port:
        start_http_server(port, addr=host)
        log.info("metrics on http://%s:%d/metrics", host, port)
