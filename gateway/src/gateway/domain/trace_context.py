"""W3C Trace Context at the gateway: keep the caller's trace id, make the gateway's call
to a service a child span; start a trace when the caller sent none (or a broken one)."""

from __future__ import annotations

import random
import re

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_INVALID_TRACE_ID = "0" * 32
_INVALID_SPAN_ID = "0" * 16


# Ids only need to be unique, not secret: a seeded PRNG, no system call per request.
_ids = random.Random()


def continued(incoming: str | None) -> tuple[str, str] | None:
    """The trace id and flags of the caller's `traceparent`, when it is one to continue."""
    if incoming is None:
        return None
    match = _TRACEPARENT.match(incoming.strip())
    if match is None:
        return None
    version, trace_id, parent_id, flags = match.groups()
    if version == "ff" or trace_id == _INVALID_TRACE_ID or parent_id == _INVALID_SPAN_ID:
        return None
    return trace_id, flags


def child_traceparent(incoming: str | None) -> str:
    span_id = f"{_ids.getrandbits(64) or 1:016x}"
    parent = continued(incoming)
    if parent is not None:
        trace_id, flags = parent
        return f"00-{trace_id}-{span_id}-{flags}"
    # A new trace, recorded (flag 01): the gateway is where it starts.
    return f"00-{_ids.getrandbits(128) or 1:032x}-{span_id}-01"


def trace_id_of(traceparent: str) -> str:
    return traceparent.split("-")[1]
