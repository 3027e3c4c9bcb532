"""`/employees`: the employees CRM knows from ERP, for choosing owners and assignees.
Read-only (ERP owns employees; hire, change and terminate there); never a salary."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from crm.api.deps import UnitOfWorkDep
from crm.service import people
from shared_schemas.http.pagination import Cursor, Limit, Page
from shared_schemas.identity import Access, Authorize
from shared_schemas.roles import Role

router = APIRouter(prefix="/employees", tags=["employees"])

ReadAccess = Annotated[Access, Depends(Authorize("crm", "employees", "read"))]

Status = Literal["active", "terminated"]


class EmployeeOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "d0000000-0000-4000-8000-000000000002",
                    "name": "Sasha Sales",
                    "email": "sales@example.com",
                    "role": "sales",
                    "title": "Account Executive",
                    "department_id": None,
                    "manager_id": "d0000000-0000-4000-8000-000000000003",
                    "status": "active",
                    "version": 1,
                    "updated_at": "2026-11-30T08:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    name: str
    email: str | None
    role: Role = Field(
        description="sales and sales_manager may own records; support (and the "
        "sales roles) may take inquiries."
    )
    title: str | None
    department_id: uuid.UUID | None
    manager_id: uuid.UUID | None
    status: Status
    version: int = Field(description="ERP's version of the employee CRM last applied.")
    updated_at: datetime


@router.get("", summary="The employees CRM knows (owners and assignees to choose from)")
async def list_employees(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[
        str | None, Query(description="`name` (default), `updated_at`; `-` descends.")
    ] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Prefix of the name or email.")
    ] = None,
    role: Annotated[list[Role] | None, Query()] = None,
    status: Annotated[list[Status] | None, Query()] = None,
    manager_id: uuid.UUID | None = None,
) -> Page[EmployeeOut]:
    filters = people.EmployeeFilters(
        q=q,
        roles=[r.value for r in role or []],
        statuses=list(status or []),
        manager_id=manager_id,
    )
    async with uow:
        page = await people.list_employees(uow.session, filters, sort, cursor, limit)
    return Page[EmployeeOut](
        items=[EmployeeOut.model_validate(e) for e in page.items], next_cursor=page.next_cursor
    )


@router.get("/{employee_id}", summary="One employee as CRM knows them")
async def get_employee(
    employee_id: uuid.UUID, _access: ReadAccess, uow: UnitOfWorkDep
) -> EmployeeOut:
    async with uow:
        employee = await people.get_employee(uow.session, employee_id)
    return EmployeeOut.model_validate(employee)
