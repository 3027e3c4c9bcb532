"""Rules of webhooks: which events a subscription wants, how a delivery is signed, what a
receiver's answer means, when to try again, and which addresses a target may have."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random
import re
import socket
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from shared_schemas.domain import RuleViolation

SIGNATURE_VERSION = "v1"
RESPONSE_EXCERPT_CHARS = 1_000
# One to four dot-separated parts, each decimal, octal (0...) or hex (0x...).
_IPV4_SHORTHAND = re.compile(r"(?:(?:0[xX][0-9a-fA-F]+|[0-9]+)\.){0,3}(?:0[xX][0-9a-fA-F]+|[0-9]+)")

# Retries: exponential from the first delay up to the ceiling, with full jitter.
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(hours=1)
SHORTEST_RETRY = timedelta(seconds=1)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # refused for good (4xx but 408/429, 410, target refused, disabled)
    DEAD = "dead"  # still failing when its retry window closed


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # 5xx, 408, 429, timeouts, connection errors
    REFUSED = "refused"  # permanent: counts towards disabling the subscription
    GONE = "gone"  # 410: the receiver asks us to stop, the subscription is disabled at once


def classify(status_code: int | None) -> Verdict:
    """What a receiver's answer means; None when there was no answer at all."""
    if status_code is None:
        return Verdict.RETRY
    if 200 <= status_code < 300:
        return Verdict.DELIVERED
    if status_code == 410:
        return Verdict.GONE
    if status_code in (408, 429) or status_code >= 500:
        return Verdict.RETRY
    # Other 4xx, and 3xx: redirects are never followed (they could point anywhere), so a
    # target that redirects is misconfigured, which waiting does not heal.
    return Verdict.REFUSED


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256, keyed with the secret, of `<timestamp>.<body>`."""
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def retry_delay(
    attempts: int, uniform: Callable[[float, float], float] = random.uniform
) -> timedelta:
    """The wait after the `attempts`-th failed attempt: full jitter under an exponential
    ceiling (10 s, 20 s, 40 s, ... at most an hour), so receivers that failed together are
    not all retried together."""
    exponent = min(max(attempts - 1, 0), 20)
    ceiling = min(LONGEST_RETRY, FIRST_RETRY * 2**exponent)
    delay = timedelta(seconds=uniform(0, ceiling.total_seconds()))
    return max(delay, SHORTEST_RETRY)


def next_attempt_at(
    now: datetime,
    *,
    queued_at: datetime,
    attempts: int,
    retry_window: timedelta,
    retry_after: timedelta | None = None,
) -> datetime | None:
    """When to try a delivery again after a failure that may heal, or None once its retry
    window (counted from when it was queued) has closed: the last attempt is made at the
    window's end, so a delivery is retried for at least the whole window."""
    deadline = queued_at + retry_window
    if now >= deadline:
        return None
    delay = retry_delay(attempts)
    if retry_after is not None:
        delay = max(delay, min(retry_after, LONGEST_RETRY))
    return min(now + delay, deadline)


def excerpt(text: str) -> str:
    """The start of a receiver's answer as the delivery log keeps it: a NUL, which a
    binary answer may hold and a PostgreSQL text cannot, shows as U+FFFD."""
    return text[:RESPONSE_EXCERPT_CHARS].replace("\x00", "\ufffd")


# Event types a subscription names: exact types, `<prefix>.*` or `*`.


def pattern_matches(pattern: str, event_type: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def matches_any(patterns: Iterable[str], event_type: str) -> bool:
    return any(pattern_matches(pattern, event_type) for pattern in patterns)


def expand(patterns: Iterable[str], known: Iterable[str]) -> list[str]:
    """The known event types the patterns name, in the order of `known`."""
    patterns = list(patterns)
    return [name for name in known if matches_any(patterns, name)]


def check_event_types(patterns: Collection[str], known: Collection[str]) -> list[str]:
    """The patterns, without repeats; RuleViolation naming each one that names no event."""
    unknown = [pattern for pattern in patterns if not expand([pattern], known)]
    if unknown:
        raise RuleViolation(
            "Each event type must name events of the catalogue "
            "(an exact type, `<prefix>.*` or `*`).",
            [{"field": "event_types", "message": f"no event type matches {p!r}"} for p in unknown],
        )
    return list(dict.fromkeys(patterns))


# Targets.


def target_refused(message: str) -> RuleViolation:
    return RuleViolation(
        f"The webhook URL is not allowed: {message}.", [{"field": "url", "message": message}]
    )


def target_host(url: str) -> tuple[str, int]:
    """The host and port of an acceptable target URL (http or https, a host, a port from
    1, no credentials); RuleViolation otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise target_refused(f"not a URL ({exc})") from exc
    if parts.scheme not in ("http", "https"):
        raise target_refused("the scheme must be http or https")
    if not parts.hostname:
        raise target_refused("it has no host")
    if parts.username is not None or parts.password is not None:
        raise target_refused("credentials do not belong in the URL; the signature authenticates")
    if parts.fragment:
        raise target_refused("it has a fragment")
    if port == 0:
        raise target_refused("port 0 is no port a receiver listens on")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address `host` spells, if it is one. Besides the standard forms that includes
    the shorthand and numeric IPv4 forms (`127.1`, `2130706433`, `0x7f.1`) the system's
    resolver and HTTP clients take as an address without asking DNS."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        shorthand = _IPV4_SHORTHAND.fullmatch(host) is not None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host)) if shorthand else None
    except OSError:
        return None


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """An address on the public internet: not loopback, private, link-local, shared,
    multicast, reserved or unspecified, also when an IPv6 address embeds an IPv4 one
    (mapped, 6to4, Teredo, NAT64)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
        and not any(address in network for network in _NOT_GLOBAL)
    )


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Ranges IANA does not call globally reachable that this Python still does: IETF protocol
# assignments (but for two anycast services no webhook is for) and IPv6 site-local
# addresses, deprecated but still routed inside some networks.
_NOT_GLOBAL: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.ip_network("192.0.0.0/24"),
    ipaddress.ip_network("fec0::/10"),
)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def check_addresses(host: str, addresses: Collection[str], allowed_hosts: Collection[str]) -> None:
    """RuleViolation unless every address `host` resolves to is public, or the host is one
    the settings allow to be private."""
    if host.lower() in {allowed.lower().strip("[]") for allowed in allowed_hosts}:
        return
    if not addresses:
        raise target_refused(f"{host} does not resolve")
    for text in addresses:
        address = literal_address(text.split("%", 1)[0])
        if address is None or not is_public_address(address):
            raise target_refused(f"{host} resolves to a non-public address ({text})")
