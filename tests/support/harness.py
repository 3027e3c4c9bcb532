"""What every service under test offers a test: its client, tokens per role, the events
of the other service applied through its own consumer path, and its outbox; or the
service with its real consumer against the broker."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.database import create_engine
from shared_schemas.events.base import EventData, new_event
from shared_schemas.events.catalogue import dlq_topic
from shared_schemas.identity import TokenSigner
from shared_schemas.messaging import (
    Consumer,
    EventApplier,
    KafkaSettings,
    Outcome,
    Workers,
    ensure_topics,
)
from tests.support.kafka_tools import PeerOnTheBroker, running, start_at_end
from tests.support.migrated import copy_of_template

ROOT = Path(__file__).resolve().parents[2]


async def migrate(service_dir: str, database_url: str) -> None:
    """Bring the database to the service's latest migration: in a test session an empty
    one becomes a copy of a template the migrations made once (tests.support.migrated)."""
    if not await copy_of_template(service_dir, database_url, partial(upgrade, service_dir)):
        await upgrade(service_dir, database_url)


def alembic_config(service_dir: str, database_url: str) -> Config:
    """The service's Alembic configuration, pointed at `database_url`."""
    config = Config(str(ROOT / service_dir / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


async def upgrade(service_dir: str, database_url: str, revision: str = "head") -> None:
    """Run the service's migrations on `database_url` up to `revision` (no template: a
    server of a test's own, which outlives no test, holds none). Alembic's env runs its
    own event loop, so it runs off the test's."""
    config = alembic_config(service_dir, database_url)
    await asyncio.to_thread(command.upgrade, config, revision)


async def execute(database_url: str, statement: str, **values: object) -> list[tuple[object, ...]]:
    """One SQL statement in a transaction of its own, on an engine of its own; its rows."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), values)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


class ServiceHarness:
    #: The service whose events `publish` pretends to come from.
    peer = "peer-service"

    def __init__(
        self,
        client: httpx.AsyncClient,
        applier: EventApplier,
        signer: TokenSigner,
        engine: AsyncEngine,
        outbox: Table,
    ) -> None:
        self.client = client
        self.applier = applier
        self.signer = signer
        self.engine = engine
        self.outbox = outbox

    def headers(self, role: str, employee_id: uuid.UUID | None = None) -> dict[str, str]:
        token = self.signer.issue(
            subject=f"user-{role}-{employee_id or 'none'}", roles=[role], employee_id=employee_id
        )
        return {"Authorization": f"Bearer {token}"}

    async def publish(self, data: EventData) -> Outcome:
        """Apply one event of the peer service as the consumer would (inbox and effect in
        one transaction)."""
        event = new_event(data, source=self.peer, actor=self.peer)
        parsed = self.applier.parse(event.model_dump_json().encode())
        assert parsed is not None, f"the service does not consume {data.event_type}"
        return await self.applier.apply(*parsed)

    async def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """CloudEvents the service recorded in its outbox, oldest first."""
        query = select(self.outbox.c.payload).order_by(self.outbox.c.id)
        if event_type:
            query = query.where(self.outbox.c.event_type == event_type)
        async with self.engine.connect() as connection:
            return [json.loads(row.payload) for row in await connection.execute(query)]


@dataclass(frozen=True)
class LiveWorkers:
    """A service app's client, its workers under the test's consumer group, their running
    consumer, and the peer service putting events on the topics."""

    client: httpx.AsyncClient
    workers: Workers
    consumer: Consumer
    peer: PeerOnTheBroker


@asynccontextmanager
async def live_consumer(
    app: FastAPI, kafka: KafkaSettings, *, peer: str
) -> AsyncIterator[LiveWorkers]:
    """`app` (on a migrated database) with its real consumer, `build_workers`' handlers,
    under a fresh consumer group that starts at the topics' current end: events other
    tests left there name records this database never had. Ready once the group has its
    partitions. Fails on leaving if anything was dead-lettered; disposes the app's engine.
    """
    service: Workers = app.state.workers
    group = f"{service.name}-it-{uuid.uuid4().hex[:8]}"
    workers = replace(service, name=group, consumer_group=None, kafka=kafka)
    consumer = workers.consumer()
    await ensure_topics(kafka, [(dlq_topic(group), 1)])
    await start_at_end(kafka, group, consumer.topics)
    producer = kafka.producer(f"{peer}-under-test")
    await producer.start()
    transport = httpx.ASGITransport(app=app)
    try:
        async with (
            httpx.AsyncClient(transport=transport, base_url=f"http://{service.name}") as client,
            running(consumer),
        ):
            await asyncio.wait_for(consumer.assigned.wait(), 60)
            yield LiveWorkers(client, workers, consumer, PeerOnTheBroker(producer, peer))
            letters = await workers.dead_letter_log().page(limit=10, after_id=None, status=None)
            assert letters == [], f"the consumer dead-lettered events: {letters}"
    finally:
        await producer.stop()
        await app.state.engine.dispose()
