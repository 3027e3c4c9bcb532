"""The gateway's event history: every business event it consumed, recorded once with the
webhook deliveries it causes, read by the live stream, pruned after `event_history_days`."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from gateway.adapters.events import EventRecord, WebhookDelivery, WebhookSubscription
from gateway.domain.webhooks import DeliveryStatus, matches_any
from shared_schemas.database import READ_ONLY, lock_for_transaction
from shared_schemas.events.base import CloudEvent
from shared_schemas.events.registry import event_model

# Held by each transaction that records events, on PostgreSQL, until it commits: sequence
# numbers are then handed out in commit order, so a reader that has seen number N never
# sees a smaller one appear later (the stream resumes after the last id it sent).
HISTORY_LOCK = zlib.crc32(b"gateway:event-history")

# Rows per INSERT of deliveries (well under SQLite's bound-parameter limit).
DELIVERY_CHUNK = 500


async def record_events(
    session: AsyncSession, events: Sequence[CloudEvent[Any]], now: datetime | None = None
) -> int:
    """Record `events` in the history, each event id once whoever delivers it, with a
    pending delivery for every active subscription that wants it; in the caller's
    transaction. Returns how many events were new."""
    if not events:
        return 0
    now = now or datetime.now(UTC)
    postgres = session.get_bind().dialect.name == "postgresql"
    await lock_for_transaction(session, HISTORY_LOCK)
    upsert = postgresql_insert if postgres else sqlite_insert
    unique = {event.id: event for event in events}
    statement = (
        upsert(EventRecord)
        .values(
            [
                {
                    "event_id": event.id,
                    "type": event.type,
                    "topic": event_model(event.type).topic,
                    "subject": event.subject,
                    "time": event.time,
                    "received_at": now,
                    "payload": event.model_dump_json(),
                }
                for event in unique.values()
            ]
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(EventRecord.seq, EventRecord.event_id, EventRecord.type)
    )
    recorded = sorted((await session.execute(statement)).all())
    if recorded:
        await _queue_deliveries(session, recorded, now)
    return len(recorded)


async def _queue_deliveries(session: AsyncSession, recorded: Sequence[Any], now: datetime) -> None:
    subscriptions = (
        await session.execute(
            select(WebhookSubscription.id, WebhookSubscription.event_types).where(
                WebhookSubscription.active.is_(True)
            )
        )
    ).all()
    rows = [
        new_delivery(subscription.id, seq, event_id, event_type, now)
        for seq, event_id, event_type in recorded
        for subscription in subscriptions
        if matches_any(subscription.event_types, event_type)
    ]
    await insert_deliveries(session, rows)


def new_delivery(
    subscription_id: uuid.UUID, seq: int, event_id: uuid.UUID, event_type: str, now: datetime
) -> dict[str, Any]:
    """The row of a delivery due now."""
    return {
        "id": uuid.uuid4(),
        "subscription_id": subscription_id,
        "event_seq": seq,
        "event_id": event_id,
        "event_type": event_type,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def insert_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), DELIVERY_CHUNK):
        chunk = list(rows[start : start + DELIVERY_CHUNK])
        await session.execute(insert(WebhookDelivery).values(chunk))


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    type: str
    payload: str


async def latest_seq(engine: AsyncEngine) -> int:
    """The newest sequence number of the history (0 when it is empty)."""
    async with engine.connect() as connection:
        connection = await connection.execution_options(**READ_ONLY)
        latest = await connection.scalar(select(func.max(EventRecord.seq)))
    return int(latest or 0)


async def latest_received_at(engine: AsyncEngine) -> datetime | None:
    """When the newest event of the history was recorded (None when it is empty)."""
    async with engine.connect() as connection:
        connection = await connection.execution_options(**READ_ONLY)
        latest: datetime | None = await connection.scalar(select(func.max(EventRecord.received_at)))
    return latest


async def events_after(
    engine: AsyncEngine, after: int, types: Collection[str] | None, limit: int = 100
) -> list[StoredEvent]:
    """Up to `limit` events after sequence number `after`, oldest first; only `types`
    unless None (every type)."""
    query = select(EventRecord.seq, EventRecord.type, EventRecord.payload).where(
        EventRecord.seq > after
    )
    if types is not None:
        query = query.where(EventRecord.type.in_(sorted(types)))
    query = query.order_by(EventRecord.seq).limit(limit)
    async with engine.connect() as connection:
        connection = await connection.execution_options(**READ_ONLY)
        rows = (await connection.execute(query)).all()
    return [StoredEvent(row.seq, row.type, row.payload) for row in rows]


async def prune_history(engine: AsyncEngine, keep: timedelta, now: datetime | None = None) -> int:
    """Forget events received longer than `keep` ago, with their finished deliveries; an
    event whose delivery is still pending stays until that delivery finishes."""
    cutoff = (now or datetime.now(UTC)) - keep
    old = select(EventRecord.seq).where(EventRecord.received_at < cutoff)
    async with engine.begin() as connection:
        await connection.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.event_seq.in_(old),
                WebhookDelivery.status != DeliveryStatus.PENDING.value,
            )
        )
        result = await connection.execute(
            delete(EventRecord).where(
                EventRecord.received_at < cutoff,
                EventRecord.seq.not_in(select(WebhookDelivery.event_seq)),
            )
        )
    return int(result.rowcount)
