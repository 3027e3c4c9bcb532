"""A `batched` handler gets the consecutive new events of its type as one run, in order,
and a batch mixing it with plain handlers applies every event once, in the batch's order;
SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared_schemas.database import session_factory
from shared_schemas.events.base import CloudEvent, new_event
from shared_schemas.messaging import EventApplier, Outcome, batched, current_event_context
from tests.support.probe import ProbeService, probe_event

pytestmark = pytest.mark.api


async def test_runs_of_a_batched_handler_keep_the_batch_order(engine: AsyncEngine) -> None:
    probe = ProbeService("test.batched")
    await probe.create_schema(engine)
    plain_type = probe_event("test.plain")
    runs: list[list[int]] = []
    causes: list[str | None] = []

    async def many(
        session: AsyncSession, events: Sequence[CloudEvent[Any]]
    ) -> list[Outcome | None]:
        runs.append([event.data.seq for event in events])
        causes.append(current_event_context().causation_id)
        await session.execute(
            insert(probe.applied),
            [
                {
                    "event_id": event.id,
                    "probe_id": event.data.probe_id,
                    "seq": event.data.seq,
                    "version": event.data.version,
                }
                for event in events
            ],
        )
        return [Outcome.SUPERSEDED if event.data.seq == 5 else None for event in events]

    applier = EventApplier(
        group="probe",
        sessions=session_factory(engine),
        inbox=probe.tables.inbox,
        handlers={probe.event: batched(many), plain_type: probe.handler()},
    )
    probe_id = uuid.uuid4()

    def event(kind: type[Any], seq: int) -> CloudEvent[Any]:
        return new_event(
            kind(probe_id=uuid.uuid4() if kind is plain_type else probe_id, seq=seq, version=seq),
            source="probe-service",
            actor="probe-service",
        )

    first = event(probe.event, 1)
    items = [first, event(probe.event, 2), event(plain_type, 3), first, event(probe.event, 4)]
    items.append(event(probe.event, 5))
    parsed = [applier.parse(item.model_dump_json().encode()) for item in items]
    outcomes = await applier.apply_batch([item for item in parsed if item is not None])

    assert outcomes == [
        Outcome.APPLIED,
        Outcome.APPLIED,
        Outcome.APPLIED,
        Outcome.DUPLICATE,
        Outcome.APPLIED,
        Outcome.SUPERSEDED,
    ]
    # The plain event splits the run; the duplicate joins none.
    assert runs == [[1, 2], [4, 5]]
    # A run's own context is left to the handler: no single event's ids leak into it.
    assert causes == [None, None]
    async with engine.connect() as connection:
        applied = (
            await connection.execute(select(probe.applied.c.seq).order_by(probe.applied.c.id))
        ).scalars()
        assert list(applied) == [1, 2, 3, 4, 5]

    # Applied alone, a batched handler's event is a run of one.
    last = parsed[-1]
    assert last is not None
    assert await applier.apply(*last) is Outcome.DUPLICATE
    single = event(probe.event, 6)
    parsed_single = applier.parse(single.model_dump_json().encode())
    assert parsed_single is not None
    assert await applier.apply(*parsed_single) is Outcome.APPLIED
    assert runs[-1] == [6]
