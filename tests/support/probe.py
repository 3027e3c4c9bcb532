"""A tiny test service for the messaging runtime: numbered probe events on a test topic.

Its "business write" is a row in `probes`; its consumer's effect is a row in `applied`
per event, so exactly-once, loss and order can be read straight from the tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    Uuid,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared_schemas.database import session_factory
from shared_schemas.domain import RuleViolation
from shared_schemas.events.base import CloudEvent, EventData
from shared_schemas.messaging.applier import Handler, Outcome
from shared_schemas.messaging.consumer import Consumer
from shared_schemas.messaging.kafka import KafkaSettings
from shared_schemas.messaging.outbox import Outbox
from shared_schemas.messaging.tables import MessagingTables, messaging_tables


class ProbeRecorded(EventData):
    """Base of the per-topic probe event types that tests create with `probe_event`."""

    probe_id: uuid.UUID
    seq: int
    fail: bool = False


def probe_event(topic: str, version: int = 1) -> type[ProbeRecorded]:
    """A probe event type published on `topic` (each test has its own topic)."""
    namespace: dict[str, Any] = {
        "event_type": f"{topic}.recorded.v{version}",
        "topic": topic,
        "subject_field": "probe_id",
        "__annotations__": {
            "event_type": ClassVar[str],
            "topic": ClassVar[str],
            "subject_field": ClassVar[str],
        },
    }
    return type(f"ProbeRecordedV{version}", (ProbeRecorded,), namespace)


class ProbeService:
    def __init__(self, topic: str) -> None:
        self.metadata = MetaData()
        self.tables: MessagingTables = messaging_tables(self.metadata)
        self.probes = Table(
            "probes",
            self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("probe_id", Uuid, nullable=False),
            Column("seq", Integer, nullable=False),
        )
        self.applied = Table(
            "applied",
            self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("event_id", Uuid, nullable=False),
            Column("probe_id", Uuid, nullable=False),
            Column("seq", Integer, nullable=False),
            Column("version", Integer, nullable=False),
        )
        self.event = probe_event(topic)
        self.outbox = Outbox(self.tables.outbox, source="probe-service")
        # Probes whose events the handler refuses for now (a bug that gets fixed later).
        self.refused: set[uuid.UUID] = set()

    async def create_schema(self, engine: AsyncEngine) -> None:
        async with engine.begin() as connection:
            await connection.run_sync(self.metadata.create_all)

    async def write(
        self,
        session: AsyncSession,
        probe_id: uuid.UUID,
        seq: int,
        *,
        version: int | None = None,
        fail: bool = False,
    ) -> CloudEvent[Any]:
        """The business write plus its event, in the session's transaction."""
        await session.execute(insert(self.probes).values(probe_id=probe_id, seq=seq))
        data = self.event(probe_id=probe_id, seq=seq, version=version or seq, fail=fail)
        return await self.outbox.record(session, data)

    async def write_many(
        self, engine: AsyncEngine, items: Sequence[tuple[uuid.UUID, int]], per_transaction: int
    ) -> list[uuid.UUID]:
        event_ids = []
        for start in range(0, len(items), per_transaction):
            async with AsyncSession(engine) as session, session.begin():
                for probe_id, seq in items[start : start + per_transaction]:
                    event_ids.append((await self.write(session, probe_id, seq)).id)
        return event_ids

    def consumer(
        self, engine: AsyncEngine, kafka: KafkaSettings, group: str, **options: Any
    ) -> Consumer:
        """A consumer in `group` applying this probe's events with `handler`."""
        return Consumer(
            group=group,
            sessions=session_factory(engine),
            inbox=self.tables.inbox,
            handlers={self.event: self.handler()},
            kafka=kafka,
            **options,
        )

    def handler(self) -> Handler:
        applied, refused = self.applied, self.refused

        async def apply(session: AsyncSession, event: CloudEvent[Any]) -> Outcome | None:
            data = event.data
            if data.fail or data.probe_id in refused:
                raise RuleViolation(
                    f"probe {data.probe_id} refuses to be applied",
                    [{"field": "probe_id", "message": "refused for now"}],
                )
            newest = (
                await session.execute(
                    select(func.max(applied.c.version)).where(applied.c.probe_id == data.probe_id)
                )
            ).scalar()
            # Only an older version is superseded: a second copy of an applied event gets
            # past this check, so a duplicate the inbox let through shows as two rows.
            if newest is not None and newest > data.version:
                return Outcome.SUPERSEDED
            await session.execute(
                insert(applied).values(
                    event_id=event.id, probe_id=data.probe_id, seq=data.seq, version=data.version
                )
            )
            return None

        return apply

    async def applied_event_ids(self, engine: AsyncEngine) -> list[uuid.UUID]:
        async with engine.connect() as connection:
            result = await connection.execute(select(self.applied.c.event_id))
            return list(result.scalars())

    async def applied_versions(self, engine: AsyncEngine) -> dict[uuid.UUID, list[int]]:
        """Each probe's versions in the order the consumer applied them."""
        versions: dict[uuid.UUID, list[int]] = {}
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(self.applied.c.probe_id, self.applied.c.version).order_by(self.applied.c.id)
            )
            for probe_id, version in rows:
                versions.setdefault(probe_id, []).append(version)
        return versions

    async def applied_count(self, engine: AsyncEngine) -> int:
        async with engine.connect() as connection:
            return int(
                (
                    await connection.execute(select(func.count()).select_from(self.applied))
                ).scalar_one()
            )

    async def outbox_count(self, engine: AsyncEngine, *, unpublished: bool = False) -> int:
        """Outbox rows (only those not yet published with `unpublished`)."""
        outbox = self.tables.outbox
        query = select(func.count()).select_from(outbox)
        if unpublished:
            query = query.where(outbox.c.published_at.is_(None))
        async with engine.connect() as connection:
            return int((await connection.execute(query)).scalar_one())
