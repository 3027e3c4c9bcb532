"""Who and what caused the events recorded in the current task (correlation and causation)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class EventContext:
    correlation_id: str | None = None
    causation_id: str | None = None


_NONE = EventContext()
_current: ContextVar[EventContext] = ContextVar("event_context", default=_NONE)


def current_event_context() -> EventContext:
    return _current.get()


@contextmanager
def event_context(
    *, correlation_id: str | None = None, causation_id: str | None = None
) -> Iterator[EventContext]:
    """Events recorded inside this block carry these ids (unset ones are inherited)."""
    outer = _current.get()
    inner = replace(
        outer,
        correlation_id=correlation_id or outer.correlation_id,
        causation_id=causation_id or outer.causation_id,
    )
    token = _current.set(inner)
    try:
        yield inner
    finally:
        _current.reset(token)


@contextmanager
def recorded_as(context: EventContext | None) -> Iterator[EventContext]:
    """Events recorded inside this block carry `context` (the current one when None): how
    work done for several requests or events at once keeps each one's ids."""
    if context is None:
        yield _current.get()
        return
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
