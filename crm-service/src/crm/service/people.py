"""The employees CRM knows from ERP (its replica): who can own records and take inquiries,
for the pickers of a frontend. Read-only: ERP owns employees."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.replicas import EmployeeReplica
from shared_schemas.domain import NotFound
from shared_schemas.http.pagination import Page
from shared_schemas.listing import Listing, SortKey, normalise

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
        conditions.append(EmployeeReplica.id.in_(await _matching(session, filters.q)))
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


async def _matching(session: AsyncSession, q: str) -> list[uuid.UUID]:
    """The employees whose name or email starts with `q`, folded as every search column is.

    A company's staff is small: no search column, a scan. The folding happens here, not in
    SQL, whose lower() leaves capitals beyond ASCII alone on SQLite and never turns `ß`
    into `ss`, so `q` would miss names that the searches of other records find."""
    prefix = normalise(q) or ""
    rows = await session.execute(
        select(EmployeeReplica.id, EmployeeReplica.name, EmployeeReplica.email)
    )
    return [
        employee_id
        for employee_id, name, email in rows
        if any((normalise(text) or "").startswith(prefix) for text in (name, email) if text)
    ]


async def get_employee(session: AsyncSession, employee_id: uuid.UUID) -> EmployeeReplica:
    employee = await session.get(EmployeeReplica, employee_id)
    if employee is None:
        raise NotFound("employee", employee_id)
    return employee
