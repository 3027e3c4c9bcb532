"""`/employees`: who works for the company, their platform role and manager (CRM learns of
them from `erp.employee.*`), and their salary, which only some roles see."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field, JsonValue

from erp.adapters.people import Employee
from erp.api.deps import UnitOfWorkDep
from erp.domain.orders import MAX_AMOUNT
from erp.service import employees
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.json_types import Day
from shared_schemas.http.pagination import Cursor, Limit, Page
from shared_schemas.http.patch import NotNull
from shared_schemas.http.text import Words
from shared_schemas.identity import Access, Authorize
from shared_schemas.money import Money
from shared_schemas.permissions import hidden_fields
from shared_schemas.roles import Role

router = APIRouter(prefix="/employees", tags=["employees"])

ReadAccess = Annotated[Access, Depends(Authorize("erp", "employees", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("erp", "employees", "create"))]
UpdateAccess = Annotated[Access, Depends(Authorize("erp", "employees", "update"))]
TerminateAccess = Annotated[Access, Depends(Authorize("erp", "employees", "terminate"))]

Status = Literal["active", "terminated"]
Name = Annotated[Words, Field(max_length=200)]
Title = Annotated[Words, Field(max_length=200)]
Salary = Annotated[
    Money,
    Field(
        ge=0,
        le=MAX_AMOUNT,
        description="Gross per year, in the company currency; hr and admin only.",
    ),
]

EXAMPLE: dict[str, JsonValue] = {
    "name": "Maria Schmidt",
    "email": "maria.schmidt@example.com",
    "department_id": "3c9d1e2f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
    "manager_id": "d0000000-0000-4000-8000-000000000003",
    "title": "Account Executive",
    "role": "sales",
    "hired_on": "2026-11-02",
    "salary": "58000.00",
}


class EmployeeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    id: uuid.UUID | None = Field(
        default=None,
        description="Only to hire under a known id (the development employees have fixed "
        "ones); a new id by default. 409 if taken.",
    )
    name: Name
    email: EmailStr = Field(description="Unique among employees, whatever the case.")
    department_id: uuid.UUID | None = None
    manager_id: uuid.UUID | None = Field(
        default=None, description="An active employee; hr and admin only."
    )
    title: Title | None = None
    role: Role = Field(description="What the employee may do on the platform; hr and admin only.")
    hired_on: Day | None = Field(default=None, description="Default: today.")
    salary: Salary | None = None


class EmployeeUpdate(BaseModel):
    """Fields to change; those left out stay as they are, null clears the optional ones.
    The status changes through `/terminate`, never here."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"title": "Senior Account Executive", "salary": "64000.00"}]
        },
    )

    name: Annotated[Name | None, NotNull] = None
    email: Annotated[EmailStr | None, NotNull] = None
    department_id: uuid.UUID | None = None
    manager_id: uuid.UUID | None = None
    title: Title | None = None
    role: Annotated[Role | None, NotNull] = None
    hired_on: Annotated[Day | None, NotNull] = None
    salary: Salary | None = None


class EmployeeTerminate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"terminated_on": "2026-11-30", "reason": "Resigned"}]},
    )

    terminated_on: Day | None = Field(
        default=None,
        description="The last day; default today, never in the future. A hire that has "
        "not started yet is called off: it ends on its `hired_on`.",
    )
    reason: str | None = Field(default=None, max_length=500)


class EmployeeOut(BaseModel):
    """An employee. `salary` is left out entirely for roles that may not see it."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **EXAMPLE,
                    "id": "7b2c4d6e-8f90-4a1b-9c3d-5e7f9a1b3c5d",
                    "currency": "EUR",
                    "status": "active",
                    "terminated_on": None,
                    "termination_reason": None,
                    "version": 1,
                    "created_at": "2026-11-02T08:00:00Z",
                    "updated_at": "2026-11-02T08:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    name: str
    email: str
    department_id: uuid.UUID | None
    manager_id: uuid.UUID | None
    title: str | None
    role: Role
    hired_on: date
    salary: Money | None = Field(
        default=None, description="Present only for hr and admin; null when not recorded."
    )
    currency: str = Field(description="The currency of salary: the company's.")
    status: Status
    terminated_on: date | None
    termination_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime


def employee_out(employee: Employee, access: Access, currency: str) -> EmployeeOut:
    """The employee as the caller may see them: fields hidden from their roles stay unset,
    and every route returning employees leaves unset fields out of the response
    (`response_model_exclude_unset`), so they are absent rather than null."""
    hidden = hidden_fields(access.principal.roles, "erp", "employees")
    values: dict[str, Any] = {
        name: getattr(employee, name)
        for name in EmployeeOut.model_fields
        if name not in hidden and name != "currency"
    }
    return EmployeeOut.model_validate({**values, "currency": currency})


def _respond(response: Response, employee: Employee, access: Access, currency: str) -> EmployeeOut:
    set_etag(response, employee.version)
    return employee_out(employee, access, currency)


WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "A field your role may not set (named in `errors`)"},
    409: {"description": "The email (or id) is taken (`existing_id`)"},
    422: {"description": "Bad input: unknown department, a manager who may not manage"},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Hire an employee",
    responses=WRITE_RESPONSES,
    response_model_exclude_unset=True,
)
async def hire_employee(
    body: EmployeeCreate, access: CreateAccess, uow: UnitOfWorkDep, response: Response
) -> EmployeeOut:
    values = body.model_dump(exclude_unset=True)
    access.require_fields(values)
    employee = await employees.hire(uow, values)
    response.headers["Location"] = f"/employees/{employee.id}"
    return _respond(response, employee, access, uow.settings.company.currency)


@router.get("", summary="List and search employees", response_model_exclude_unset=True)
async def list_employees(
    access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[
        str | None,
        Query(description="`name`, `hired_on`, `created_at`; prefix `-` for descending."),
    ] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="Prefix of the name or email."),
    ] = None,
    status_: Annotated[
        list[Status] | None, Query(alias="status", description="Default: every status.")
    ] = None,
    role: Annotated[list[Role] | None, Query()] = None,
    department_id: uuid.UUID | None = None,
    manager_id: uuid.UUID | None = None,
) -> Page[EmployeeOut]:
    filters = employees.EmployeeFilters(
        statuses=list(status_ or []),
        roles=[str(r) for r in role or []],
        department_id=department_id,
        manager_id=manager_id,
        q=q,
    )
    async with uow:
        page = await employees.list_employees(uow.session, filters, sort, cursor, limit)
    currency = uow.settings.company.currency
    return Page[EmployeeOut](
        items=[employee_out(employee, access, currency) for employee in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/{employee_id}", summary="One employee", response_model_exclude_unset=True)
async def get_employee(
    employee_id: uuid.UUID, access: ReadAccess, uow: UnitOfWorkDep, response: Response
) -> EmployeeOut:
    async with uow:
        employee = await employees.get_employee(uow.session, employee_id)
    return _respond(response, employee, access, uow.settings.company.currency)


@router.patch(
    "/{employee_id}",
    summary="Change an employee (title, department, manager, role, salary, ...)",
    responses={
        **WRITE_RESPONSES,
        404: {"description": "No such employee"},
        412: {"description": "If-Match names an older version"},
    },
    response_model_exclude_unset=True,
)
async def update_employee(
    employee_id: uuid.UUID,
    body: EmployeeUpdate,
    access: UpdateAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> EmployeeOut:
    changes = body.model_dump(exclude_unset=True)
    access.require_fields(changes)
    employee = await employees.update_employee(
        uow, employee_id, changes, expected_version(if_match)
    )
    return _respond(response, employee, access, uow.settings.company.currency)


@router.post(
    "/{employee_id}/terminate",
    summary="Terminate an employee; their reports move to their manager",
    responses={
        404: {"description": "No such employee"},
        409: {"description": "Terminated already (`current_status`, `allowed`)"},
        412: {"description": "If-Match names an older version"},
        422: {
            "description": "terminated_on before hired_on or in the future (for a hire not "
            "started yet: other than hired_on)"
        },
    },
    response_model_exclude_unset=True,
)
async def terminate_employee(
    employee_id: uuid.UUID,
    access: TerminateAccess,
    uow: UnitOfWorkDep,
    response: Response,
    body: EmployeeTerminate | None = None,
    if_match: IfMatch = None,
) -> EmployeeOut:
    employee = await employees.terminate(
        uow,
        employee_id,
        body.terminated_on if body else None,
        body.reason if body else None,
        expected_version(if_match),
    )
    return _respond(response, employee, access, uow.settings.company.currency)
