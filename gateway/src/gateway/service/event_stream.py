"""The live event stream: events of the history after a position, as they arrive.

One task per process polls the history's newest sequence number while streams are open
and wakes them when it grows, so an idle stream costs no query; each stream then reads
only the events it may see. Positions are sequence numbers, which grow in commit order,
so resuming after the last one sent neither repeats nor skips an event.

A stream lives no longer than the access token that opened it: it ends at the token's
`exp`, and as soon as its user is disabled (asked before each batch and every second),
so that a terminated employee's open connection stops like their next request would.

A user holds at most so many streams open in a process (`StreamSlots`): each is a
connection and a task for as long as it lasts, so one user, or a leaked token, cannot pin
an unbounded number of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.service.history import StoredEvent, events_after, latest_seq

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 15.0
# How often a quiet stream asks whether its user lost access: as often as the gateway
# learns of a disabling (the disabled users are read again about every second).
REVOCATION_CHECK_SECONDS = 1.0
BATCH = 100

STREAMS_OPEN = Gauge("gateway_event_streams_open", "Live event streams open in this process")


class HistoryFeed:
    """The history's newest sequence number, watched for every open stream of a process."""

    def __init__(self, engine: AsyncEngine, interval: float = POLL_SECONDS) -> None:
        self.engine = engine
        self.interval = interval
        self.latest = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listeners = 0

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[None]:
        """Keep the poller running while the block runs (it stops with the last stream)."""
        self._listeners += 1
        STREAMS_OPEN.inc()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll())
        try:
            yield
        finally:
            self._listeners -= 1
            STREAMS_OPEN.dec()
            if self._listeners == 0 and self._task is not None:
                self._task.cancel()
                self._task = None

    async def wait_beyond(self, seen: int, seconds: float) -> bool:
        """Wait until the newest sequence number passes `seen`; False after `seconds`."""
        deadline = time.monotonic() + seconds
        while self.latest <= seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return True

    async def _poll(self) -> None:
        while True:
            try:
                latest = await latest_seq(self.engine)
            except Exception as exc:  # the database away: streams wait, they do not fail
                log.warning("event stream: cannot read the history: %s", exc)
            else:
                if latest != self.latest:
                    self.latest = latest
                    changed, self._changed = self._changed, asyncio.Event()
                    changed.set()
            await asyncio.sleep(self.interval)


class StreamSlots:
    """The live streams each user has open in this process, at most `per_user` each.

    Counted in memory, in the event loop: taking a slot checks and counts at once (no
    await between), and a process that stops holds nothing any more."""

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self._open: dict[str, int] = {}

    def open_for(self, user_id: str) -> int:
        return self._open.get(user_id, 0)

    def slot(self, user_id: str) -> StreamSlot:
        return StreamSlot(self, user_id)


class StreamSlot:
    """One request's claim on a stream of its user: `take()` when the stream is about to
    be served (False while the user has all theirs open), `release()` once it has ended,
    however it ended; releasing twice, or a slot never taken, is a no-op."""

    def __init__(self, slots: StreamSlots, user_id: str) -> None:
        self._slots = slots
        self.user_id = user_id
        self.taken = False

    def take(self) -> bool:
        if self.taken:
            return True
        counts = self._slots._open
        count = counts.get(self.user_id, 0)
        if count >= self._slots.per_user:
            return False
        counts[self.user_id] = count + 1
        self.taken = True
        return True

    def release(self) -> None:
        if not self.taken:
            return
        self.taken = False
        counts = self._slots._open
        remaining = counts.get(self.user_id, 0) - 1
        if remaining > 0:
            counts[self.user_id] = remaining
        else:
            counts.pop(self.user_id, None)


async def starting_position(engine: AsyncEngine, after: int | None) -> int:
    """Where a stream starts: after `after`, or after the newest event when None (and when
    `after` is beyond it: a history started afresh)."""
    newest = await latest_seq(engine)
    return newest if after is None else min(after, newest)


@dataclass(frozen=True)
class StreamEnd:
    """Why a stream stopped: its token expired, or its user lost access."""

    reason: str


TOKEN_EXPIRED = StreamEnd("token expired")
ACCESS_REVOKED = StreamEnd("access revoked")


async def live_events(
    feed: HistoryFeed,
    *,
    after: int,
    types: Collection[str] | None,
    expires_at: datetime | None = None,
    revoked: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncIterator[StoredEvent | StreamEnd | None]:
    """The events of `types` (all when None) after sequence number `after`; None when
    nothing came for `HEARTBEAT_SECONDS` (a heartbeat is due). It ends with a StreamEnd at
    `expires_at`, or once `revoked()` says so (asked before each batch, and at least
    every `REVOCATION_CHECK_SECONDS` while quiet)."""

    def seconds_left() -> float:
        if expires_at is None:
            return float("inf")
        return (expires_at - datetime.now(UTC)).total_seconds()

    async def ended() -> StreamEnd | None:
        if seconds_left() <= 0:
            return TOKEN_EXPIRED
        if revoked is not None and await revoked():
            return ACCESS_REVOKED
        return None

    async with feed.listening():
        position = after
        quiet_since = time.monotonic()
        while True:
            end = await ended()
            if end is not None:
                yield end
                return
            seen = feed.latest
            batch = await events_after(feed.engine, position, types, BATCH)
            if batch:
                for event in batch:
                    yield event
                position = batch[-1].seq
                quiet_since = time.monotonic()
                continue
            # Every event up to `seen` had committed before the read: none of them is for
            # this stream, so the next read may start after it.
            position = max(position, seen)
            while True:  # quiet: wait for news, a heartbeat due, or the end
                heartbeat = HEARTBEAT_SECONDS - (time.monotonic() - quiet_since)
                wait = min(heartbeat, seconds_left())
                if revoked is not None:
                    # A quiet stream of a user disabled meanwhile ends within about a
                    # second, not at the next event or heartbeat; asking costs no query.
                    wait = min(wait, REVOCATION_CHECK_SECONDS)
                wait = max(wait, 0.0)
                if await feed.wait_beyond(seen, wait):
                    break
                if heartbeat <= wait:
                    yield None
                    quiet_since = time.monotonic()
                    break
                end = await ended()
                if end is not None:
                    yield end
                    return
