"""Contracts of the erp.employee topic: employees hired, updated, terminated (never salary)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from shared_schemas.events.base import EventData
from shared_schemas.roles import Role

EmployeeStatus = Literal["active", "terminated"]


class EmployeeState(EventData):
    """The employee's full current state as other services need it.

    Salary is never part of it: events reach services and subscribers that must not see it.
    """

    topic: ClassVar[str] = "erp.employee"
    subject_field: ClassVar[str] = "employee_id"

    employee_id: uuid.UUID
    name: str = Field(min_length=1)
    email: str
    department_id: uuid.UUID | None
    manager_id: uuid.UUID | None = Field(
        description="The employee's manager, who takes over open records on termination."
    )
    title: str | None
    role: Role = Field(description="What the employee may do on the platform.")
    hired_on: date
    status: EmployeeStatus
    terminated_on: date | None = None


class EmployeeHired(EmployeeState):
    """An employee was hired; their full state."""

    event_type: ClassVar[str] = "erp.employee.hired.v1"

    status: Literal["active"] = "active"


class EmployeeUpdated(EmployeeState):
    """An employee was changed (role, manager, department, ...); their full current state."""

    event_type: ClassVar[str] = "erp.employee.updated.v1"


class EmployeeTerminated(EmployeeState):
    """An employee was terminated: their open records must go to their manager or nobody."""

    event_type: ClassVar[str] = "erp.employee.terminated.v1"

    status: Literal["terminated"] = "terminated"
    terminated_on: date
