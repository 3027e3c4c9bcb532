"""Support inquiries: channels, priorities, the life cycle and the SLA clock."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from shared_schemas.domain import StateMachine

CHANNELS = ("email", "phone", "web", "chat", "in_person")
PRIORITIES = ("low", "normal", "high", "urgent")
DEFAULT_PRIORITY = "normal"

LIFECYCLE = StateMachine(
    "inquiry",
    {
        "new": {"open": "open", "resolve": "resolved"},
        "open": {"pend": "pending", "resolve": "resolved"},
        "pending": {"resume": "open", "resolve": "resolved"},
        "resolved": {"reopen": "open", "close": "closed"},
        "closed": {},
    },
)

UNRESOLVED = ("new", "open", "pending")
"""Statuses in which the SLA clock runs (and an inquiry can be overdue)."""

FINAL = "closed"


def sla_due_at(created_at: datetime, priority: str, sla_hours: Mapping[str, int]) -> datetime:
    """When an inquiry of `priority` opened at `created_at` must be resolved by."""
    return created_at + timedelta(hours=sla_hours[priority])


def is_overdue(status: str, due_at: datetime, now: datetime) -> bool:
    return status in UNRESOLVED and due_at < now
