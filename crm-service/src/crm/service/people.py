"""The employees CRM knows from ERP (its replica): who can own records and take inquiries,
for the pickers of a frontend. Read-only: ERP owns employees."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.replicas import EmployeeReplica
from shared_schemas.domain import NotFound
from shared_schemas.http.pagination import Page
from shared_schemas.listing import Listing, SortKey, prefix_match

LISTING = Listing(
    fields={
        "name": SortKey(EmployeeReplica.name),
        "updated_at": SortKey(EmployeeReplica.updated_at, datetime),
    },
    id_column=EmployeeReplica.id,
    default="name",
)


@dataclass(frozen=True)
class EmployeeFilters:
    q: str | None = None
    roles: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    manager_id: uuid.UUID | None = None


async def list_employees(
    session: AsyncSession,
    filters: EmployeeFilters,
    sort: str | None,
    cursor: str | None,
    limit: int,
) -> Page[EmployeeReplica]:
    conditions: list[Any] = []
    if filters.q:
        # A company's staff is small: no search column, a scan of lower-cased names.
        conditions.append(
            or_(
                prefix_match(func.lower(EmployeeReplica.name), filters.q),
                prefix_match(func.lower(EmployeeReplica.email), filters.q),
            )
        )
    if filters.roles:
        conditions.append(EmployeeReplica.role.in_(filters.roles))
    if filters.statuses:
        conditions.append(EmployeeReplica.status.in_(filters.statuses))
    if filters.manager_id:
        conditions.append(EmployeeReplica.manager_id == filters.manager_id)
    query = (
        select(EmployeeReplica).where(and_(*conditions)) if conditions else select(EmployeeReplica)
    )
    rows = list(await session.scalars(LISTING.apply(query, sort, cursor, limit)))
    return LISTING.page(rows, limit, sort)


async def get_employee(session: AsyncSession, employee_id: uuid.UUID) -> EmployeeReplica:
    employee = await session.get(EmployeeReplica, employee_id)
    if employee is None:
        raise NotFound("employee", employee_id)
    return employee
