"""`GET /api/events/stream`: the business events the caller may read, live, as
Server-Sent Events, resumable with `Last-Event-ID`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from gateway.config import Settings
from gateway.domain.webhooks import expand
from gateway.service.event_stream import (
    HistoryFeed,
    StreamEnd,
    StreamSlot,
    StreamSlots,
    live_events,
    starting_position,
)
from gateway.service.revocation import DisabledUsers
from shared_schemas.events.readers import readable_event_types
from shared_schemas.events.registry import EVENT_TYPES
from shared_schemas.http.problems import Problem
from shared_schemas.http.wire_numbers import whole_number
from shared_schemas.identity import Access, Authorize

router = APIRouter(prefix="/api/events", tags=["events"])

StreamAccess = Annotated[Access, Depends(Authorize("gateway", "events", "read"))]

# Clients reconnect this long after losing the stream (milliseconds).
RECONNECT_MS = 3_000
# A user with every stream of theirs open is told to try again after as long.
STREAMS_BUSY_RETRY_SECONDS = RECONNECT_MS // 1000
LAST_POSITION = 2**63 - 1

_STREAM_DOC = """\
A `text/event-stream`. Each business event is one message: `id` is its position in the
gateway's event history, `event` its type, `data` the CloudEvent JSON. Lines starting
with `:` are heartbeats. The stream ends when the access token that opened it expires,
or when its user is disabled (a last `: token expired` or `: access revoked` line says
which): reconnect with a fresh token. Reconnect with `Last-Event-ID` (or `last_event_id`) set to the
last id received to get every event after it, none twice; without it the stream starts
with the next event. Only the event types your roles may read are sent (design §7).

A user may hold `GATEWAY_EVENT_STREAMS_PER_USER` (5) streams open at once on one gateway
process; one more is a 429 with `Retry-After` until one of them ends (closing it is
enough)."""


def _feed(request: Request) -> HistoryFeed:
    feed = getattr(request.app.state, "history_feed", None)
    if feed is None:
        feed = request.app.state.history_feed = HistoryFeed(request.app.state.engine)
    assert isinstance(feed, HistoryFeed)
    return feed


def _slots(request: Request) -> StreamSlots:
    slots = getattr(request.app.state, "stream_slots", None)
    if slots is None:
        settings: Settings = request.app.state.settings
        slots = request.app.state.stream_slots = StreamSlots(settings.event_streams_per_user)
    assert isinstance(slots, StreamSlots)
    return slots


async def _stream_slot(request: Request, access: StreamAccess) -> AsyncIterator[StreamSlot]:
    """The request's claim on one of its user's streams, taken by the route once the
    request is valid. Released here once the response is over, however it ended (the
    client gone, an error, the server stopping and cancelling it): a request-scoped
    dependency ends after the response has been sent. The stream also releases it as it
    ends, the sooner of the two."""
    slot = _slots(request).slot(access.principal.user_id)
    try:
        yield slot
    finally:
        slot.release()


StreamSlotDep = Annotated[StreamSlot, Depends(_stream_slot, scope="request")]


def _too_many_streams(per_user: int) -> Problem:
    return Problem(
        429,
        f"You have {per_user} event streams open, as many as one user may; "
        "close one before opening another.",
        kind="too-many-requests",
        headers={"Retry-After": str(STREAMS_BUSY_RETRY_SECONDS)},
    )


def _types_for(access: Access, requested: list[str] | None) -> frozenset[str] | None:
    """The types to send: those asked for (all when none were) that the caller may read;
    None when that is every type."""
    readable = readable_event_types(access.principal.roles)
    if requested:
        unknown = [pattern for pattern in requested if not expand([pattern], EVENT_TYPES)]
        if unknown:
            raise Problem(
                422,
                "Unknown event types.",
                kind="validation-error",
                title="Validation error",
                errors=[
                    {"field": "query.types", "message": f"no event type matches {p!r}"}
                    for p in unknown
                ],
            )
        hidden = [pattern for pattern in requested if not set(expand([pattern], readable))]
        if hidden:
            raise Problem(
                403,
                f"Your role may not read {', '.join(hidden)}.",
                kind="forbidden",
                errors=[
                    {"field": "query.types", "message": f"not readable: {p!r}"} for p in hidden
                ],
            )
        wanted = frozenset(expand(requested, readable))
    else:
        wanted = readable
    return None if wanted == frozenset(EVENT_TYPES) else wanted


def _position(header: str | None, query: int | None) -> int | None:
    if header is None:
        return query
    # A number past any id (the history's ids are 64-bit) resumes at the newest event.
    position = whole_number(header, LAST_POSITION)
    if position is None:
        raise Problem(
            400,
            "Last-Event-ID must be the id of an event of this stream.",
            kind="bad-request",
            errors=[{"field": "Last-Event-ID", "message": "not an id of this stream"}],
        )
    return position


async def _messages(
    feed: HistoryFeed,
    after: int,
    types: frozenset[str] | None,
    access: Access,
    disabled: DisabledUsers,
    slot: StreamSlot,
) -> AsyncIterator[str]:
    user_id = access.principal.user_id

    async def revoked() -> bool:
        return await disabled.contains(user_id)

    try:
        yield f"retry: {RECONNECT_MS}\n\n"
        async for event in live_events(
            feed,
            after=after,
            types=types,
            expires_at=access.principal.expires_at,
            revoked=revoked,
        ):
            if event is None:
                yield ": keep-alive\n\n"
            elif isinstance(event, StreamEnd):
                yield f": {event.reason}\n\n"
            else:
                yield f"id: {event.seq}\nevent: {event.type}\ndata: {event.payload}\n\n"
    finally:
        slot.release()


@router.get(
    "/stream",
    summary="Live business events (Server-Sent Events)",
    description=_STREAM_DOC,
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "The stream"},
        400: {"description": "A `Last-Event-ID` that is no id of this stream"},
        403: {"description": "A requested type your roles may not read"},
        422: {"description": "An unknown event type"},
        429: {
            "description": "Your user already has `GATEWAY_EVENT_STREAMS_PER_USER` (5) "
            "streams open on this gateway process: close one (`Retry-After` says when to "
            "try again)"
        },
    },
)
async def stream_events(
    access: StreamAccess,
    slot: StreamSlotDep,
    request: Request,
    types: Annotated[
        list[str] | None,
        Query(
            max_length=100,
            description="Only these types (repeat it); exact, `<prefix>.*` or `*`.",
        ),
    ] = None,
    last_event_id: Annotated[
        int | None, Query(ge=0, description="Resume after this id (or send Last-Event-ID).")
    ] = None,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    wanted = _types_for(access, types)
    position = _position(last_event_id_header, last_event_id)
    if not slot.take():
        raise _too_many_streams(_slots(request).per_user)
    feed = _feed(request)
    # Fixed before answering: an event recorded once the client has the headers is sent.
    after = await starting_position(feed.engine, position)
    return StreamingResponse(
        _messages(feed, after, wanted, access, request.app.state.identity.disabled, slot),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
