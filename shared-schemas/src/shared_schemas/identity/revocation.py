"""Tokens refused before they expire: those of users the gateway disabled, and those of
employees terminated since (in the services, which know their employees).

A token is a signed promise valid until `exp`; a process that can also tell whether the
token's user or employee was revoked since keeps the revoked ids in memory and reads them
again at most every `refresh_seconds` (one small query a second per process, not one per
request). The read after the first runs beside the requests: they go on with the ids in
hand meanwhile, so no request waits for it. A change this process made itself is seen at
once after `forget()` (the next request waits for a fresh read); one another process made
(a consumer applying a termination, another replica) within `refresh_seconds` and a read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.database import READ_ONLY
from shared_schemas.identity.tokens import KeysUnavailable, Principal

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0


class RevokedIds:
    """The ids `query` selects (one column), kept in memory; a principal is refused when
    `claim` of it is one of them, with `reason` (formatted with the id) as the cause."""

    def __init__(
        self,
        engine: AsyncEngine,
        query: Select[Any],
        *,
        claim: Callable[[Principal], object | None],
        reason: str,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        self.engine = engine
        self.query = query
        self.claim = claim
        self.reason = reason
        self.refresh_seconds = refresh_seconds
        self._ids: frozenset[str] | None = None
        # When the read in hand started (it saw what was committed by then), and when
        # this process last changed an id itself.
        self._read_at = -float("inf")
        self._forgotten_at = -float("inf")
        self._lock = asyncio.Lock()
        self._refreshing: asyncio.Task[None] | None = None

    async def contains(self, value: str) -> bool:
        now = time.monotonic()
        if self._ids is None or self._read_at < self._forgotten_at:
            # Nothing in hand yet, or older than our own change: wait for a fresh read.
            await self._read(fresher_than=self._forgotten_at)
        elif now - self._read_at > self.refresh_seconds and (
            self._refreshing is None or self._refreshing.done()
        ):
            self._refreshing = asyncio.create_task(
                self._read(fresher_than=now - self.refresh_seconds)
            )
        assert self._ids is not None
        return value in self._ids

    async def refused(self, principal: Principal) -> str | None:
        """Why the principal's tokens are not trusted any more, or None."""
        value = self.claim(principal)
        if value is None or not await self.contains(str(value)):
            return None
        return self.reason.format(value)

    def forget(self) -> None:
        """Read the ids again before the next answer (this process just revoked or
        restored one)."""
        self._forgotten_at = time.monotonic()

    async def _read(self, *, fresher_than: float) -> None:
        async with self._lock:
            if self._ids is not None and self._read_at > fresher_than:
                return  # read by another request while this one waited
            started = time.monotonic()
            try:
                async with self.engine.connect() as connection:
                    connection = await connection.execution_options(**READ_ONLY)
                    rows = await connection.execute(self.query)
                    self._ids = frozenset(str(value) for (value,) in rows)
                self._read_at = started
            except (SQLAlchemyError, OSError) as exc:
                # The last known ids keep serving while the database is away; without
                # them no token can be trusted.
                log.warning("revoked ids unavailable: %s", exc)
                if self._ids is None:
                    raise KeysUnavailable("the service's database is unavailable") from exc
