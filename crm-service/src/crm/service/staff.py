"""Checking owners and assignees against the employee replica."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.replicas import EmployeeReplica
from crm.domain.staff import StaffMember, is_eligible
from shared_schemas.domain import RuleViolation
from shared_schemas.identity.tokens import Principal


async def member(session: AsyncSession, employee_id: uuid.UUID | None) -> StaffMember | None:
    if employee_id is None:
        return None
    row = (
        await session.execute(
            select(EmployeeReplica.role, EmployeeReplica.status).where(
                EmployeeReplica.id == employee_id
            )
        )
    ).first()
    return StaffMember(row.role, row.status) if row else None


async def require_eligible(
    session: AsyncSession, employee_id: uuid.UUID, roles: frozenset[str], field: str
) -> None:
    if not is_eligible(await member(session, employee_id), roles):
        wanted = " or ".join(sorted(roles))
        raise RuleViolation(
            f"{field} must be an active employee with role {wanted}.",
            [{"field": field, "message": f"not an active {wanted} employee"}],
        )


async def default_assignee(
    session: AsyncSession, principal: Principal | None, roles: frozenset[str]
) -> uuid.UUID | None:
    """The caller, when they may hold the record; otherwise nobody."""
    if principal is None or principal.employee_id is None:
        return None
    if is_eligible(await member(session, principal.employee_id), roles):
        return principal.employee_id
    return None
