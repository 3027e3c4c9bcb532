"""`/departments`: the company's departments, each optionally under a parent one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from erp.adapters.people import Department
from erp.api.deps import UnitOfWorkDep
from erp.service import employees
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.pagination import Cursor, Limit, Page
from shared_schemas.http.patch import NotNull
from shared_schemas.http.text import Words
from shared_schemas.identity import Access, Authorize

router = APIRouter(prefix="/departments", tags=["departments"])

ReadAccess = Annotated[Access, Depends(Authorize("erp", "departments", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("erp", "departments", "create"))]
UpdateAccess = Annotated[Access, Depends(Authorize("erp", "departments", "update"))]

Name = Annotated[Words, Field(max_length=200)]
PARENT_ID = "3c9d1e2f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"


class DepartmentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Inside Sales", "parent_id": PARENT_ID}]},
    )

    name: Name = Field(description="Unique, whatever the case.")
    parent_id: uuid.UUID | None = Field(default=None, description="The department it is part of.")


class DepartmentUpdate(BaseModel):
    """Fields to change; those left out stay as they are, a null parent_id makes the
    department a top-level one."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "Sales Development"}]}
    )

    name: Annotated[Name | None, NotNull] = None
    parent_id: uuid.UUID | None = None


class DepartmentOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
                    "name": "Inside Sales",
                    "parent_id": PARENT_ID,
                    "version": 1,
                    "created_at": "2026-11-01T08:00:00Z",
                    "updated_at": "2026-11-01T08:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    name: str
    parent_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime


def _respond(response: Response, department: Department) -> DepartmentOut:
    set_etag(response, department.version)
    return DepartmentOut.model_validate(department)


PARENT_RULES = "Bad input: unknown parent, or one that sits under the department"


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a department",
    responses={
        409: {"description": "The name is taken (`existing_id`)"},
        422: {"description": PARENT_RULES},
    },
)
async def create_department(
    body: DepartmentCreate, _access: CreateAccess, uow: UnitOfWorkDep, response: Response
) -> DepartmentOut:
    department = await employees.create_department(uow, body.model_dump())
    response.headers["Location"] = f"/departments/{department.id}"
    return _respond(response, department)


@router.get("", summary="List and search departments")
async def list_departments(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[
        str | None, Query(description="`name`, `created_at`; prefix `-` for descending.")
    ] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Name prefix.")
    ] = None,
    parent_id: Annotated[uuid.UUID | None, Query(description="Departments under it.")] = None,
) -> Page[DepartmentOut]:
    async with uow:
        page = await employees.list_departments(uow.session, parent_id, q, sort, cursor, limit)
    return Page[DepartmentOut](
        items=[DepartmentOut.model_validate(d) for d in page.items], next_cursor=page.next_cursor
    )


@router.get("/{department_id}", summary="One department")
async def get_department(
    department_id: uuid.UUID, _access: ReadAccess, uow: UnitOfWorkDep, response: Response
) -> DepartmentOut:
    async with uow:
        department = await employees.get_department(uow.session, department_id)
    return _respond(response, department)


@router.patch(
    "/{department_id}",
    summary="Rename a department or move it under another",
    responses={
        404: {"description": "No such department"},
        409: {"description": "The name is taken (`existing_id`)"},
        412: {"description": "If-Match names an older version"},
        422: {"description": PARENT_RULES},
    },
)
async def update_department(
    department_id: uuid.UUID,
    body: DepartmentUpdate,
    _access: UpdateAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> DepartmentOut:
    department = await employees.update_department(
        uow, department_id, body.model_dump(exclude_unset=True), expected_version(if_match)
    )
    return _respond(response, department)
