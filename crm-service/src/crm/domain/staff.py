"""Who may own or be assigned CRM records (design.md §5), from the employee replica."""

from __future__ import annotations

from dataclasses import dataclass

OWNER_ROLES = frozenset({"sales", "sales_manager"})
"""Owners of customers, leads, opportunities and quotes."""

ASSIGNEE_ROLES = frozenset({"support", "sales", "sales_manager"})
"""Assignees of inquiries."""


@dataclass(frozen=True)
class StaffMember:
    role: str
    status: str


def is_eligible(member: StaffMember | None, roles: frozenset[str]) -> bool:
    return member is not None and member.status == "active" and member.role in roles
