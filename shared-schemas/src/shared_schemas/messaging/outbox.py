"""Recording events in the caller's transaction (the transactional outbox)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Executable, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared_schemas.events.base import CLOUDEVENTS_CONTENT_TYPE, CloudEvent, EventData, new_event
from shared_schemas.messaging.context import current_event_context
from shared_schemas.messaging.tables import key_bucket

# Brokers differ in what they accept (the embedded one enforces nothing); keep every
# event well under Kafka's 1 MiB default so no row can ever become unpublishable.
MAX_EVENT_BYTES = 512 * 1024

_NOTIFIED = "outbox_notified_transaction"


class EventTooLarge(ValueError):
    pass


def notify_channel(table: Table) -> str:
    return f"{table.name}_pending"


class Outbox:
    """A service's outbox: events become rows of `table` in the caller's transaction."""

    def __init__(self, table: Table, source: str) -> None:
        self.table = table
        self.source = source

    async def record(
        self, session: AsyncSession, data: EventData, *, actor: str | None = None
    ) -> CloudEvent[Any]:
        """Add `data` as an event to the session's transaction; it is published after commit.

        `actor` is the user who caused the change; automatic changes leave it to default
        to the service itself.
        """
        context = current_event_context()
        event = new_event(
            data,
            source=self.source,
            actor=actor or self.source,
            correlation_id=context.correlation_id,
            causation_id=context.causation_id,
        )
        payload = event.model_dump_json().encode()
        if len(payload) > MAX_EVENT_BYTES:
            raise EventTooLarge(f"{data.event_type} is {len(payload)} bytes")
        headers = {"content-type": CLOUDEVENTS_CONTENT_TYPE, "ce-type": event.type}
        if event.correlationid:
            headers["correlation-id"] = event.correlationid
        row = {
            "event_id": event.id,
            "topic": data.topic,
            "key": event.subject,
            "bucket": key_bucket(event.subject),
            "event_type": event.type,
            "payload": payload,
            "headers": headers,
            "created_at": datetime.now(UTC),
        }
        await session.execute(self._insert_waking_relay(session, row))
        return event

    def _insert_waking_relay(self, session: AsyncSession, row: dict[str, Any]) -> Executable:
        """The INSERT; on PostgreSQL, the first of a transaction also NOTIFYs the relay,
        in the same statement. PostgreSQL delivers a NOTIFY only on commit and drops it on
        rollback: exactly when the relay should look."""
        statement = insert(self.table).values(**row)
        if session.get_bind().dialect.name != "postgresql":
            return statement
        transaction = session.get_transaction()
        if session.info.get(_NOTIFIED) is transaction:
            return statement
        session.info[_NOTIFIED] = transaction
        inserted = statement.returning(self.table.c.id).cte("recorded")
        return select(func.pg_notify(notify_channel(self.table), "")).select_from(inserted)
