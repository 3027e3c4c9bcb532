"""Employees and departments: the employment life cycle and the rules of the two
hierarchies (who reports to whom, which department sits under which)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import NoReturn

from shared_schemas.domain import RuleViolation, StateMachine

ACTIVE = "active"
TERMINATED = "terminated"
STATUSES = (ACTIVE, TERMINATED)

LIFECYCLE = StateMachine("employee", {ACTIVE: {"terminate": TERMINATED}})
"""Statuses change only through the transition route, never by PATCH; a terminated
employee is final (a rehire is a new employee)."""

MAX_DEPTH = 100
"""Longest chain of managers (or parent departments) the rules walk: deeper is refused,
so a broken hierarchy can never make them loop."""


@dataclass(frozen=True)
class Colleague:
    """An employee as a rule about someone else sees them."""

    id: uuid.UUID
    status: str
    manager_id: uuid.UUID | None


def check_manager(
    employee_id: uuid.UUID | None, manager: Colleague | None, chain: Sequence[uuid.UUID]
) -> None:
    """`manager` may manage the employee (None for a new one): they exist, are active,
    are not the employee, and are not managed by the employee, directly or further up.

    `chain` is the manager's own managers, nearest first. 422 on `manager_id` otherwise.
    """
    if manager is None:
        _refuse("manager_id", "There is no such employee to be the manager.", "no such employee")
    if manager.status != ACTIVE:
        _refuse("manager_id", "A terminated employee cannot be a manager.", "not active")
    if employee_id is not None and manager.id == employee_id:
        _refuse("manager_id", "An employee cannot be their own manager.", "is the employee")
    if employee_id is not None and employee_id in chain:
        _refuse(
            "manager_id",
            "The manager reports to this employee: that would make a cycle.",
            "would make a cycle",
        )
    if len(chain) >= MAX_DEPTH:
        _refuse("manager_id", "The chain of managers is too deep.", "too deep")


def check_parent(department_id: uuid.UUID | None, lineage: Sequence[uuid.UUID] | None) -> None:
    """The parent department exists and is neither the department itself nor one below it.

    `lineage` is the parent and its own parents, nearest first (None: no such parent).
    422 on `parent_id` otherwise.
    """
    if lineage is None:
        _refuse("parent_id", "There is no such department.", "no such department")
    if department_id is not None and lineage and lineage[0] == department_id:
        _refuse("parent_id", "A department cannot be its own parent.", "is the department")
    if department_id is not None and department_id in lineage:
        _refuse(
            "parent_id",
            "The parent sits under this department: that would make a cycle.",
            "would make a cycle",
        )
    if len(lineage) > MAX_DEPTH:
        _refuse("parent_id", "The chain of departments is too deep.", "too deep")


def leaving_date(hired_on: date, terminated_on: date | None, today: date) -> date:
    """The day an employee leaves: on or after the day they were hired, and not later
    than today (a terminated employee loses access at once, so the date cannot lie
    ahead), today when not given. A hire that has not started yet is called off: it ends
    on its hire date, the only date it can have."""
    if hired_on > today:
        if terminated_on not in (None, hired_on):
            _refuse(
                "terminated_on",
                f"The employee starts on {hired_on.isoformat()}; a hire called off before "
                "then ends on that date.",
                "not hired_on",
            )
        return hired_on
    terminated_on = terminated_on or today
    if terminated_on < hired_on:
        _refuse("terminated_on", "An employee cannot leave before being hired.", "before hired_on")
    if terminated_on > today:
        _refuse(
            "terminated_on",
            "Terminate on the day the employee leaves; the date cannot be in the future.",
            "in the future",
        )
    return terminated_on


def check_hire_date(hired_on: date, terminated_on: date | None) -> None:
    """A terminated employee's hire date stays before their leaving date."""
    if terminated_on is not None and hired_on > terminated_on:
        _refuse(
            "hired_on", "The hire date must not follow the leaving date.", "after terminated_on"
        )


def _refuse(field: str, detail: str, message: str) -> NoReturn:
    raise RuleViolation(detail, [{"field": field, "message": message}])
