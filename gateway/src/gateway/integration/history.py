"""Every business event of the catalogue (crm.* and erp.*) → the gateway's event history and
the webhook deliveries it causes, in the transaction of its inbox row.

The history wants every type, and other modules of this package may handle some of the
same types (a terminated employee's user is disabled): `with_history` puts the recording
in front of whatever else a type's handler does, in the same transaction, instead of
offering a second handler for the type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.service.history import record_events
from shared_schemas.events.base import CloudEvent, EventData
from shared_schemas.events.registry import EVENT_TYPES
from shared_schemas.messaging import BatchHandler, Handler, Outcome, batched


async def _record(session: AsyncSession, events: Sequence[CloudEvent[Any]]) -> list[Outcome | None]:
    await record_events(session, events)
    return [None] * len(events)


RECORD_HISTORY = batched(_record)
"""One handler object for every type, so a consumer batch of any mix of types is
recorded in one set-based step."""


def _recorded_before(handler: Handler) -> Handler:
    if isinstance(handler, BatchHandler):
        other = handler

        async def many(
            session: AsyncSession, events: Sequence[CloudEvent[Any]]
        ) -> list[Outcome | None]:
            await record_events(session, events)
            return await other.many(session, events)

        return batched(many)

    async def one(session: AsyncSession, event: CloudEvent[Any]) -> Outcome | None:
        await record_events(session, [event])
        return await handler(session, event)

    return one


def with_history(handlers: Mapping[type[EventData], Handler]) -> dict[type[EventData], Handler]:
    """`handlers`, each also recording its events in the history, plus the recording alone
    for every other catalogued type."""
    combined: dict[type[EventData], Handler] = {
        model: RECORD_HISTORY for model in EVENT_TYPES.values()
    }
    for model, handler in handlers.items():
        combined[model] = _recorded_before(handler)
    return combined
