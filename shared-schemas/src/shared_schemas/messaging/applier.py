"""Applying one event exactly once: the inbox row and the handler's effect in one
transaction. Used by the consumer for live records and by dead-letter replay."""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared_schemas.domain import RuleViolation
from shared_schemas.events.base import CloudEvent, EventData
from shared_schemas.messaging.context import EventContext, recorded_as


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # the inbox already had this event id
    SUPERSEDED = "superseded"  # the handler had already applied a newer version


Handler = Callable[[AsyncSession, CloudEvent[Any]], Awaitable[Outcome | None]]
"""Applies an event in the given session; returns SUPERSEDED when it ignored a stale
version, anything else (None) counts as applied. Raising rolls everything back."""

ManyHandler = Callable[[AsyncSession, Sequence[CloudEvent[Any]]], Awaitable[list[Outcome | None]]]
"""Applies a run of events of one type, in order, as one set-based step; one outcome per
event. What it records for each event carries that event's `context_of`."""


class BatchHandler:
    """A handler that applies a run of its events at once (`batched(many)`): one event is
    a run of one, so both paths are the same code."""

    def __init__(self, many: ManyHandler) -> None:
        self.many = many

    async def __call__(self, session: AsyncSession, event: CloudEvent[Any]) -> Outcome | None:
        [outcome] = await self.many(session, [event])
        return outcome


def batched(many: ManyHandler) -> BatchHandler:
    return BatchHandler(many)


def context_of(event: CloudEvent[Any]) -> EventContext:
    """What events recorded while applying `event` carry: its correlation, and it as cause."""
    return EventContext(
        correlation_id=event.correlationid or str(event.id), causation_id=str(event.id)
    )


class Unusable(Exception):
    """A record that can never be applied: `reason` is `malformed` or `invalid`."""

    def __init__(self, reason: str, error: str) -> None:
        super().__init__(error)
        self.reason = reason
        self.error = error


class _Envelope(CloudEvent[dict[str, Any]]):
    """The envelope with its data still raw, to route on `type` before validating data."""


class EventApplier:
    def __init__(
        self,
        *,
        group: str,
        sessions: async_sessionmaker[AsyncSession],
        inbox: Table,
        handlers: Mapping[type[EventData], Handler],
    ) -> None:
        self.group = group
        self.sessions = sessions
        self.inbox = inbox
        self.routes = {model.event_type: (model, handler) for model, handler in handlers.items()}
        self.topics = sorted({model.topic for model in handlers})

    def parse(self, value: bytes | None) -> tuple[CloudEvent[Any], Handler] | None:
        """The validated event and its handler; None for a type this group does not handle
        (another service's, or a newer `.vN` published beside the one read here)."""
        try:
            envelope = _Envelope.model_validate_json(value or b"")
        except (ValidationError, ValueError, TypeError) as exc:
            raise Unusable("malformed", describe(exc)) from exc
        route = self.routes.get(envelope.type)
        if route is None:
            return None
        model, handler = route
        try:
            event = CloudEvent[model].model_validate_json(value or b"")  # type: ignore[valid-type]
        except ValidationError as exc:
            raise Unusable("invalid", describe(exc)) from exc
        return event, handler

    async def apply(self, event: CloudEvent[Any], handler: Handler) -> Outcome:
        async with self.sessions() as session, session.begin():
            if not await self._remember(session, event):
                return Outcome.DUPLICATE
            with recorded_as(context_of(event)):
                return _applied(await handler(session, event))

    async def apply_batch(self, items: Sequence[tuple[CloudEvent[Any], Handler]]) -> list[Outcome]:
        """Apply several events (of one partition, in order) in ONE transaction: one inbox
        INSERT for all of them, then each new event's handler; consecutive new events of a
        `BatchHandler` go to it as one run. If anything raises, nothing of the batch is
        committed; the caller then applies them one by one."""
        async with self.sessions() as session, session.begin():
            new = await self._remember_all(session, [event for event, _ in items])
            outcomes: list[Outcome] = []
            run: list[tuple[int, CloudEvent[Any]]] = []  # (position in outcomes, event)
            runner: BatchHandler | None = None
            for event, handler in items:
                if event.id not in new:
                    outcomes.append(Outcome.DUPLICATE)
                    continue
                new.discard(event.id)  # the same event twice in one batch: once
                if run and handler is not runner:
                    await self._apply_run(session, runner, run, outcomes)
                    run, runner = [], None
                if isinstance(handler, BatchHandler):
                    run.append((len(outcomes), event))
                    runner = handler
                    outcomes.append(Outcome.APPLIED)  # settled when its run is applied
                    continue
                with recorded_as(context_of(event)):
                    outcomes.append(_applied(await handler(session, event)))
            if run:
                await self._apply_run(session, runner, run, outcomes)
        return outcomes

    @staticmethod
    async def _apply_run(
        session: AsyncSession,
        runner: BatchHandler | None,
        run: list[tuple[int, CloudEvent[Any]]],
        outcomes: list[Outcome],
    ) -> None:
        assert runner is not None
        results = await runner.many(session, [event for _, event in run])
        for (position, _), result in zip(run, results, strict=True):
            outcomes[position] = _applied(result)

    async def _remember_all(
        self, session: AsyncSession, events: Sequence[CloudEvent[Any]]
    ) -> set[uuid.UUID]:
        """Insert the inbox rows of `events`; return the ids that were not there before."""
        unique = {event.id: event for event in events}
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        now = datetime.now(UTC)
        # The rows as parameters (sent as multi-row VALUES), so the statement compiles
        # once and is cached; RETURNING names the rows that were new.
        statement = insert(self.inbox).on_conflict_do_nothing().returning(self.inbox.c.event_id)
        rows = [
            {
                "consumer_group": self.group,
                "event_id": event.id,
                "event_type": event.type,
                "subject": event.subject,
                "processed_at": now,
            }
            for event in unique.values()
        ]
        return set((await session.execute(statement, rows)).scalars())

    async def _remember(self, session: AsyncSession, event: CloudEvent[Any]) -> bool:
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(self.inbox)
            .values(
                consumer_group=self.group,
                event_id=event.id,
                event_type=event.type,
                subject=event.subject,
                processed_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing()
        )
        result = await session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _applied(outcome: Outcome | None) -> Outcome:
    return Outcome.SUPERSEDED if outcome is Outcome.SUPERSEDED else Outcome.APPLIED


def describe(exc: BaseException) -> str:
    """What a dead letter says went wrong: the exception, and for a business rule the
    field errors its summary leaves out (`lines.1.sku: no product 'LATER'`)."""
    text = "".join(traceback.format_exception_only(exc)).strip()
    if isinstance(exc, RuleViolation):
        text = "\n".join([text, *(f"{e['field']}: {e['message']}" for e in exc.errors)])
    return text[:4000]
