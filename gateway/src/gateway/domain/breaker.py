"""The circuit breaker of one upstream: after `failures` failed calls in a row it opens
and answers for the upstream (503) without calling it; after the cool-down one call goes
through as a probe (half-open) and its outcome closes or reopens the circuit."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum


class BreakerState(IntEnum):
    # The values are the gauge's: 0 closed, 1 open, 2 half-open.
    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class Permit:
    """Leave to call the upstream once; `probe` when it decides a half-open circuit."""

    probe: bool


NORMAL = Permit(probe=False)
PROBE = Permit(probe=True)


class CircuitOpen(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"circuit open, retry after {retry_after:.1f}s")
        self.retry_after = retry_after

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after)))


class CircuitBreaker:
    def __init__(
        self,
        *,
        failures: int,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerState], None] | None = None,
    ) -> None:
        self.threshold = failures
        self.cooldown = cooldown
        self.clock = clock
        self.on_change = on_change
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self.opened_at = 0.0
        self._probing = False

    def acquire(self) -> Permit:
        """Leave to call the upstream, or CircuitOpen with how long to wait."""
        if self.state is BreakerState.CLOSED:
            return NORMAL
        if self.state is BreakerState.OPEN:
            waited = self.clock() - self.opened_at
            if waited < self.cooldown:
                raise CircuitOpen(self.cooldown - waited)
            self._set(BreakerState.HALF_OPEN)
        if self._probing:
            raise CircuitOpen(1.0)
        self._probing = True
        return PROBE

    def succeeded(self, permit: Permit) -> None:
        if permit.probe:
            self._probing = False
        elif self.state is not BreakerState.CLOSED:
            return  # a call let through before the circuit opened decides nothing now
        self.consecutive_failures = 0
        self._set(BreakerState.CLOSED)

    def failed(self, permit: Permit) -> None:
        if permit.probe:
            self._probing = False
            self._open()
            return
        if self.state is not BreakerState.CLOSED:
            return
        self.consecutive_failures += 1
        if self.consecutive_failures >= self.threshold:
            self._open()

    def abandoned(self, permit: Permit) -> None:
        """The call ended without an outcome (the client went away): free the probe."""
        if permit.probe:
            self._probing = False

    def _open(self) -> None:
        self.opened_at = self.clock()
        self._set(BreakerState.OPEN)

    def _set(self, state: BreakerState) -> None:
        if state is not self.state:
            self.state = state
            if self.on_change is not None:
                self.on_change(state)
