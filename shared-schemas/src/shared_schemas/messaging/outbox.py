"""Recording events in the caller's transaction (the transactional outbox)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Executable, Table, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared_schemas.events.base import CLOUDEVENTS_CONTENT_TYPE, CloudEvent, EventData, new_event
from shared_schemas.messaging.context import EventContext, current_event_context
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
        # Built once: constructing SQL costs more than executing it on this hot path.
        columns = ("event_id", "topic", "key", "bucket", "event_type", "payload", "headers")
        values: dict[str, Any] = {name: bindparam(name) for name in (*columns, "created_at")}
        self._insert = insert(table).values(values)
        recorded = insert(table).values(values).returning(table.c.id).cte("recorded")
        self._insert_and_notify = select(func.pg_notify(notify_channel(table), "")).select_from(
            recorded
        )

    async def record(
        self, session: AsyncSession, data: EventData, *, actor: str | None = None
    ) -> CloudEvent[Any]:
        """Add `data` as an event to the session's transaction; it is published after commit.

        `actor` is the user who caused the change; automatic changes leave it to default
        to the service itself.
        """
        event, row = self._row(data, actor, current_event_context())
        await session.execute(self._statement(session), row)
        return event

    async def record_many(
        self, session: AsyncSession, events: Sequence[tuple[EventData, str | None, EventContext]]
    ) -> list[CloudEvent[Any]]:
        """Several events in one multi-row INSERT (a batch of changes made for several
        requests), each with its own actor and request context."""
        built = [self._row(data, actor, context) for data, actor, context in events]
        if not built:
            return []
        first, *rest = (row for _, row in built)
        await session.execute(self._statement(session), first)
        if rest:
            await session.execute(self._insert, rest)
        return [event for event, _ in built]

    def _row(
        self, data: EventData, actor: str | None, context: EventContext
    ) -> tuple[CloudEvent[Any], dict[str, Any]]:
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
        return event, row

    def _statement(self, session: AsyncSession) -> Executable:
        """The INSERT; on PostgreSQL, the first of a transaction also NOTIFYs the relay,
        in the same statement. PostgreSQL delivers a NOTIFY only on commit and drops it on
        rollback: exactly when the relay should look."""
        if session.get_bind().dialect.name != "postgresql":
            return self._insert
        transaction = session.get_transaction()
        if session.info.get(_NOTIFIED) is transaction:
            return self._insert
        session.info[_NOTIFIED] = transaction
        return self._insert_and_notify
