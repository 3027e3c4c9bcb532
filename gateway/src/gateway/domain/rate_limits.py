"""Rate limits per minute as a generic cell rate algorithm (GCRA): each key remembers one
number, the theoretical arrival time of its next request. A key may burst up to its
limit, then gets one request per `60 / limit` seconds; a refusal says exactly how long to
wait (Retry-After) and consumes nothing.

The same arithmetic runs in memory (one gateway replica) and as a Redis script (several
replicas sharing limits, adapters.rate_limits).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass

WINDOW_SECONDS = 60.0
# An IPv6 client usually holds a whole /64 (SLAAC and privacy addresses, a cloud host's
# allocation) and may take a fresh address from it for every request.
IPV6_CLIENT_PREFIX = 64


@dataclass(frozen=True)
class Quota:
    """A limit on one key: `ip:127.0.0.1` at 1200 per minute."""

    key: str
    per_minute: int

    @property
    def interval(self) -> float:
        return WINDOW_SECONDS / self.per_minute


@dataclass(frozen=True)
class Refusal:
    """Which limit refused the request, and for how long."""

    key: str
    retry_after: float

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after)))


def decide(
    quotas: Sequence[Quota], arrivals: Sequence[float | None], now: float
) -> tuple[Refusal | None, list[float]]:
    """The refusal of the most restrictive quota, if any; else the new arrival times to
    store for each quota (all quotas are charged, or none)."""
    new_arrivals = []
    worst: Refusal | None = None
    for quota, stored in zip(quotas, arrivals, strict=True):
        arrival = max(stored if stored is not None else now, now) + quota.interval
        allowed_from = arrival - WINDOW_SECONDS
        if allowed_from > now and (worst is None or allowed_from - now > worst.retry_after):
            worst = Refusal(quota.key, allowed_from - now)
        new_arrivals.append(arrival)
    return worst, new_arrivals


def client_key(host: str) -> str:
    """What a limit per address counts a client at `host` under: its IPv4 address (also
    when the server saw it IPv4-mapped), the /64 network of an IPv6 address (a client
    changing addresses within it stays one client), anything else as it is."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        shift = 128 - IPV6_CLIENT_PREFIX
        network = ipaddress.IPv6Address(int(address) >> shift << shift)
        return f"{network}/{IPV6_CLIENT_PREFIX}"
    return str(address)
