"""The dead-letter log: every message a consumer gave up on, kept in the service's own
database beside its copy on `dlq.<group>`, so an admin can list it and replay it."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.messaging.applier import EventApplier, Outcome, Unusable

PENDING = "pending"


@dataclass(frozen=True)
class DeadLetter:
    reason: str  # malformed | invalid | failed
    error: str
    attempts: int


class NotReplayable(Exception):
    """The message fails again, or can never be applied; the reason is the message."""


class UnknownDeadLetter(LookupError):
    """No dead letter of this consumer group has the id asked for."""


class DeadLetterLog:
    def __init__(self, engine: AsyncEngine, table: Table, group: str) -> None:
        self.engine = engine
        self.table = table
        self.group = group

    async def record(self, record: ConsumerRecord, letter: DeadLetter) -> None:
        """Remember a dead letter once, however often its record is redone (the same
        message at the same position; another message at a reused offset is another)."""
        event_id, event_type = _identify(record.value)
        insert_ = postgresql_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        async with self.engine.begin() as connection:
            await connection.execute(
                insert_(self.table)
                .values(
                    consumer_group=self.group,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    key=record.key.decode(errors="replace")[:200] if record.key else None,
                    value=record.value or b"",
                    value_digest=hashlib.sha256(record.value or b"").hexdigest(),
                    event_id=event_id,
                    event_type=event_type,
                    reason=letter.reason,
                    error=letter.error,
                    attempts=letter.attempts,
                    failed_at=datetime.now(UTC),
                    status=PENDING,
                )
                .on_conflict_do_nothing()
            )

    async def page(
        self, *, limit: int, after_id: int | None, status: list[str] | None
    ) -> list[dict[str, Any]]:
        """Up to `limit + 1` dead letters, newest first, after the cursor's id."""
        table = self.table
        query = (
            select(*(column for column in table.c if column.name != "value"))
            .where(table.c.consumer_group == self.group)
            .order_by(table.c.id.desc())
            .limit(limit + 1)
        )
        if after_id is not None:
            query = query.where(table.c.id < after_id)
        if status:
            query = query.where(table.c.status.in_(status))
        async with self.engine.connect() as connection:
            return [dict(row._mapping) for row in await connection.execute(query)]

    async def replay(self, letter_id: int, applier: EventApplier) -> Outcome:
        """Apply a dead letter now, through the inbox: applied, duplicate or superseded."""
        table = self.table
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(table.c.value).where(
                        table.c.id == letter_id, table.c.consumer_group == self.group
                    )
                )
            ).first()
        if row is None:
            raise UnknownDeadLetter(letter_id)
        try:
            parsed = applier.parse(bytes(row.value))
            if parsed is None:
                raise NotReplayable("this consumer has no handler for the event's type")
            event, handler = parsed
            outcome = await applier.apply(event, handler)
        except Unusable as exc:
            await self._mark(letter_id, None, f"{exc.reason}: {exc.error}")
            raise NotReplayable(f"{exc.reason}: {exc.error}") from exc
        except NotReplayable as exc:
            await self._mark(letter_id, None, str(exc))
            raise
        except Exception as exc:
            await self._mark(letter_id, None, f"{type(exc).__name__}: {exc}"[:4000])
            raise NotReplayable(f"the handler failed again: {type(exc).__name__}: {exc}") from exc
        await self._mark(letter_id, outcome, None)
        return outcome

    async def _mark(self, letter_id: int, outcome: Outcome | None, error: str | None) -> None:
        table = self.table
        async with self.engine.begin() as connection:
            await connection.execute(
                update(table)
                .where(table.c.id == letter_id)
                .values(replayed_at=datetime.now(UTC), replay_error=error)
            )
            if outcome is not None:
                # The first resolution stands: replaying an applied letter again says
                # "duplicate", which must not hide that it was applied.
                await connection.execute(
                    update(table)
                    .where(table.c.id == letter_id, table.c.status == PENDING)
                    .values(status=outcome.value)
                )


def _identify(value: bytes | None) -> tuple[str | None, str | None]:
    """The event id and type, when the message is readable enough to say."""
    try:
        document = json.loads(value or b"")
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return None, None
    if not isinstance(document, dict):
        return None, None
    event_id, event_type = document.get("id"), document.get("type")
    try:
        event_id = str(uuid.UUID(str(event_id))) if event_id is not None else None
    except ValueError:
        event_id = None
    return event_id, str(event_type)[:200] if isinstance(event_type, str) else None
