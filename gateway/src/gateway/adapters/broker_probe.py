"""Whether the Kafka brokers answer, for the gateway's health details and metrics: a metadata
request to the bootstrap servers through the shared client settings, made at most once
per interval and bounded in time. Its answer never makes the gateway unready (the
outbox buffers, the consumer catches up), and no proxied request ever waits for it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from gateway.adapters.metrics import BROKER_UP
from shared_schemas.database import utcnow
from shared_schemas.messaging.kafka import KafkaSettings
from shared_schemas.messaging.lifecycle import stop_within

log = logging.getLogger(__name__)

# A probe more often than this answers from the last check (scrapes come every ~15 s).
CHECK_INTERVAL_SECONDS = 15.0
# A broker that holds a connection without answering (frozen, overloaded) counts as down
# after this long.
CHECK_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class BrokerState:
    state: Literal["ok", "down"]
    checked_at: datetime
    detail: str | None = None

    def as_details(self) -> dict[str, Any]:
        # A time the app's JSON encoding renders (`...Z`), as every time the APIs answer.
        details: dict[str, Any] = {"state": self.state, "checked_at": self.checked_at}
        if self.detail is not None:
            details["detail"] = self.detail
        return details


class BrokerProbe:
    """`await probe.state()`: the last check's answer, a new check started beside it once
    that answer is older than `interval`. Only the very first caller waits, for one check
    (at most `timeout` and the client's bounded close); everyone after gets the answer in
    hand while the next check runs."""

    def __init__(
        self,
        kafka: KafkaSettings,
        *,
        interval: float = CHECK_INTERVAL_SECONDS,
        timeout: float = CHECK_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kafka = kafka
        self.interval = interval
        self.timeout = timeout
        self._clock = clock
        self._last: BrokerState | None = None
        self._started_at = -float("inf")
        self._checking: asyncio.Task[BrokerState] | None = None

    async def state(self) -> BrokerState:
        due = self._clock() - self._started_at >= self.interval
        if self._checking is None and (due or self._last is None):
            self._started_at = self._clock()
            self._checking = asyncio.create_task(self._refresh())
        if self._last is not None:
            return self._last
        assert self._checking is not None
        # Shielded: a caller that goes away does not cancel the check others wait for.
        return await asyncio.shield(self._checking)

    async def refresh_gauge(self) -> None:
        """For the `/metrics` scrape: the gauge is set by every check this starts."""
        await self.state()

    async def close(self) -> None:
        checking, self._checking = self._checking, None
        if checking is not None:
            checking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checking

    async def _refresh(self) -> BrokerState:
        try:
            state = await self._check()
            self._last = state
            BROKER_UP.set(1 if state.state == "ok" else 0)
            return state
        finally:
            self._checking = None

    async def _check(self) -> BrokerState:
        admin = self.kafka.admin()
        detail: str | None = None
        try:
            # Starting the admin client connects to a bootstrap server and reads the
            # cluster's metadata; nothing more is asked of the broker.
            async with asyncio.timeout(self.timeout):
                await admin.start()
        except TimeoutError:
            detail = f"The broker did not answer within {self.timeout:g} s."
            log.warning("broker probe: no answer within %gs", self.timeout)
        except Exception as exc:  # a probe reports; whatever the client raised means "down"
            detail = "No bootstrap server answered."
            log.warning("broker probe: %s", exc)
        finally:
            await stop_within(admin.close(), self.timeout)
        return BrokerState("ok" if detail is None else "down", utcnow(), detail)
