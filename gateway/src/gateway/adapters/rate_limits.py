"""Where rate-limit state lives: in the process (one replica), or in Redis so that every
gateway replica counts against the same limits. Both run domain.rate_limits' GCRA."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.domain.rate_limits import WINDOW_SECONDS, Quota, Refusal, decide

log = logging.getLogger(__name__)

KEY_PREFIX = "gateway:rate:"


class RateLimits(Protocol):
    async def check(self, quotas: Sequence[Quota]) -> Refusal | None:
        """None when the request may go on (and it was counted), else the refusal."""
        ...

    async def close(self) -> None: ...


class MemoryRateLimits:
    """Limits of one gateway process. Keys idle for a window are forgotten."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._arrivals: dict[str, float] = {}
        self._next_sweep = 0.0

    async def check(self, quotas: Sequence[Quota]) -> Refusal | None:
        now = self.clock()
        arrivals = self._arrivals
        refusal, new = decide(quotas, [arrivals.get(q.key) for q in quotas], now)
        if refusal is None:
            for quota, arrival in zip(quotas, new, strict=True):
                arrivals[quota.key] = arrival
        if now >= self._next_sweep:
            self._sweep(now)
        return refusal

    def _sweep(self, now: float) -> None:
        # An arrival time in the past means the key is back to its full burst: drop it.
        self._arrivals = {key: at for key, at in self._arrivals.items() if at > now}
        self._next_sweep = now + WINDOW_SECONDS

    async def close(self) -> None:
        return None


# The same GCRA as domain.rate_limits.decide, atomic in Redis, on Redis's clock (replicas'
# clocks may differ). Milliseconds as integers: Lua numbers print large floats lossily.
# KEYS: one per quota; ARGV[1]: the window, ARGV[1 + i]: quota i's interval (ms).
# Returns {0, 0} when allowed (every key charged), else {i, retry_after_ms} (none charged).
_GCRA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local window = tonumber(ARGV[1])
local arrivals = {}
local refused, wait = 0, 0
for i, key in ipairs(KEYS) do
  local stored = tonumber(redis.call('GET', key))
  local arrival = math.max(stored or now, now) + tonumber(ARGV[i + 1])
  local allowed_from = arrival - window
  if allowed_from > now and allowed_from - now > wait then
    refused, wait = i, allowed_from - now
  end
  arrivals[i] = arrival
end
if refused > 0 then
  return {refused, wait}
end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, arrivals[i], 'PX', arrivals[i] - now)
end
return {0, 0}
"""


class RedisRateLimits:
    """Limits shared by every replica through one Redis. When Redis does not answer the
    request is let through (logged and counted): the limits protect the services, an
    outage of Redis must not take the whole API down with it."""

    def __init__(self, url: str, on_error: Callable[[], None] | None = None) -> None:
        self.redis: Redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script: Any = self.redis.register_script(_GCRA)
        self.on_error = on_error
        self._window_ms = int(WINDOW_SECONDS * 1000)
        self._quiet_until = 0.0

    async def check(self, quotas: Sequence[Quota]) -> Refusal | None:
        keys = [KEY_PREFIX + quota.key for quota in quotas]
        intervals = [math.ceil(quota.interval * 1000) for quota in quotas]
        try:
            refused, wait_ms = await self._script(keys=keys, args=[self._window_ms, *intervals])
        except (RedisError, OSError) as exc:
            now = time.monotonic()
            if now >= self._quiet_until:  # once per outage, not once per request
                log.warning("rate limits not checked, Redis unavailable: %s", exc)
                self._quiet_until = now + 10
            if self.on_error is not None:
                self.on_error()
            return None
        if int(refused) == 0:
            return None
        return Refusal(quotas[int(refused) - 1].key, int(wait_ms) / 1000)

    async def close(self) -> None:
        await self.redis.aclose()


def rate_limits(redis_url: str | None, on_error: Callable[[], None] | None = None) -> RateLimits:
    if redis_url:
        return RedisRateLimits(redis_url, on_error)
    return MemoryRateLimits()
