"""Use cases of employees (published to CRM as `erp.employee.*`, never with salary) and of
the departments they belong to."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from erp.adapters.people import EMAIL_KEY_LENGTH, Department, Employee
from erp.domain.people import (
    ACTIVE,
    LIFECYCLE,
    MAX_DEPTH,
    Colleague,
    check_hire_date,
    check_manager,
    check_parent,
    leaving_date,
)
from erp.service.catalog import check_version
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.database import lock_for_transaction
from shared_schemas.domain import Conflict, Duplicate, NotFound, RuleViolation
from shared_schemas.events.erp.employees import EmployeeHired, EmployeeTerminated, EmployeeUpdated
from shared_schemas.http.pagination import Page
from shared_schemas.listing import Listing, SortKey, normalise, prefix_match
from shared_schemas.roles import Role

EMPLOYEES = Listing(
    fields={
        "created_at": SortKey(Employee.created_at, datetime),
        "name": SortKey(Employee.name_key),
        "hired_on": SortKey(Employee.hired_on, date),
    },
    id_column=Employee.id,
)
DEPARTMENTS = Listing(
    fields={
        "created_at": SortKey(Department.created_at, datetime),
        "name": SortKey(Department.name_key),
    },
    id_column=Department.id,
)

# Transaction-scoped PostgreSQL advisory locks: one writer at a time changes who reports
# to whom (or which department sits under which), so two changes that are each fine alone
# cannot make a cycle together. SQLite writers queue anyway (BEGIN IMMEDIATE). The ERP's
# keys are 0x455250nn; 03 is the default warehouse's (service/catalog.py).
_REPORTING_LINES = 0x45_52_50_01
_DEPARTMENT_TREE = 0x45_52_50_02


async def get_employee(session: AsyncSession, employee_id: uuid.UUID) -> Employee:
    employee = await session.get(Employee, employee_id)
    if employee is None:
        raise NotFound("employee", employee_id)
    return employee


async def hire(uow: UnitOfWork, values: Mapping[str, Any]) -> Employee:
    """A new active employee; publishes erp.employee.hired.v1. `values` may name the
    employee's `id` (development employees have fixed ones)."""
    async with uow:
        session = uow.session
        employee_id: uuid.UUID = values.get("id") or uuid.uuid4()
        if values.get("id") is not None:
            taken = await session.get(Employee, employee_id)
            if taken is not None:
                raise Duplicate(f"An employee {employee_id} exists already.", employee_id)
        email_key = normalise(values["email"], EMAIL_KEY_LENGTH) or ""
        await _require_unique_email(session, email_key, None)
        await _require_department(session, values.get("department_id"))
        if values.get("manager_id") is not None:
            await lock_for_transaction(session, _REPORTING_LINES)
            await _require_manager(session, None, values["manager_id"])
        employee = Employee(
            id=employee_id,
            name=values["name"],
            name_key=normalise(values["name"]) or "",
            email=values["email"],
            email_key=email_key,
            department_id=values.get("department_id"),
            manager_id=values.get("manager_id"),
            title=values.get("title"),
            role=str(values["role"]),
            hired_on=values.get("hired_on") or _today(uow),
            salary=values.get("salary"),
            status=ACTIVE,
        )
        session.add(employee)
        await _flush(session, "employee")
        await uow.record(EmployeeHired(**employee_state(employee)))
    return employee


async def update_employee(
    uow: UnitOfWork, employee_id: uuid.UUID, changes: Mapping[str, Any], expected: int | None
) -> Employee:
    """Change what `changes` names (never the status); publishes erp.employee.updated.v1
    with the full current state when anything other services see changed."""
    async with uow:
        session = uow.session
        if "manager_id" in changes:
            await lock_for_transaction(session, _REPORTING_LINES)
        employee = await get_employee(session, employee_id)
        check_version(employee.version, expected)
        if "email" in changes:
            await _require_unique_email(
                session, normalise(changes["email"], EMAIL_KEY_LENGTH) or "", employee.id
            )
        if changes.get("department_id") is not None:
            await _require_department(session, changes["department_id"])
        manager_id = changes.get("manager_id")
        if manager_id is not None and manager_id != employee.manager_id:
            await _require_manager(session, employee.id, manager_id)
        if "hired_on" in changes:
            check_hire_date(changes["hired_on"], employee.terminated_on)
        state, salary = employee_state(employee), employee.salary
        for name, value in changes.items():
            setattr(employee, name, str(value) if isinstance(value, Role) else value)
        employee.name_key = normalise(employee.name) or ""
        employee.email_key = normalise(employee.email, EMAIL_KEY_LENGTH) or ""
        seen_elsewhere = employee_state(employee) != state
        if not seen_elsewhere and employee.salary == salary:
            return employee
        await _flush(session, "employee")
        if seen_elsewhere:
            # A change of salary alone is nobody else's business: no event tells of it.
            await uow.record(EmployeeUpdated(**employee_state(employee)))
    return employee


async def terminate(
    uow: UnitOfWork,
    employee_id: uuid.UUID,
    terminated_on: date | None,
    reason: str | None,
    expected: int | None,
) -> Employee:
    """active → terminated; publishes erp.employee.terminated.v1. The leaver's active
    reports now report to the leaver's manager (or to nobody), each published as
    erp.employee.updated.v1, so a manager is always an active employee."""
    async with uow:
        session = uow.session
        await lock_for_transaction(session, _REPORTING_LINES)
        employee = await get_employee(session, employee_id)
        check_version(employee.version, expected)
        status = LIFECYCLE.next(employee.status, "terminate")
        today = _today(uow)
        leaving_on = leaving_date(employee.hired_on, terminated_on, today)
        reports = list(
            await session.scalars(
                select(Employee)
                .where(Employee.manager_id == employee.id, Employee.status == ACTIVE)
                .order_by(Employee.id)
            )
        )
        employee.status = status
        employee.terminated_on = leaving_on
        employee.termination_reason = reason
        for report in reports:
            report.manager_id = employee.manager_id
        await _flush(session, "employee")
        await uow.record(EmployeeTerminated(**employee_state(employee)))
        for report in reports:
            await uow.record(EmployeeUpdated(**employee_state(report)))
    return employee


def employee_state(employee: Employee) -> dict[str, Any]:
    """The full state `erp.employee.*` events carry: everything but the salary."""
    return {
        "version": employee.version,
        "employee_id": employee.id,
        "name": employee.name,
        "email": employee.email,
        "department_id": employee.department_id,
        "manager_id": employee.manager_id,
        "title": employee.title,
        "role": Role(employee.role),
        "hired_on": employee.hired_on,
        "status": employee.status,
        "terminated_on": employee.terminated_on,
    }


@dataclass(frozen=True)
class EmployeeFilters:
    statuses: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    department_id: uuid.UUID | None = None
    manager_id: uuid.UUID | None = None
    q: str | None = None


async def list_employees(
    session: AsyncSession,
    filters: EmployeeFilters,
    sort: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Employee]:
    conditions: list[ColumnElement[bool]] = []
    if filters.statuses:
        conditions.append(Employee.status.in_(filters.statuses))
    if filters.roles:
        conditions.append(Employee.role.in_(filters.roles))
    if filters.department_id:
        conditions.append(Employee.department_id == filters.department_id)
    if filters.manager_id:
        conditions.append(Employee.manager_id == filters.manager_id)
    query: Select[Any] = (
        select(Employee).where(and_(*conditions)) if conditions else select(Employee)
    )
    if filters.q:
        searched = [prefix_match(Employee.name_key, filters.q)]
        searched.append(prefix_match(Employee.email_key, filters.q))
        query = EMPLOYEES.apply_any_of(query, searched, sort, cursor, limit)
    else:
        query = EMPLOYEES.apply(query, sort, cursor, limit)
    rows = list(await session.scalars(query))
    return EMPLOYEES.page(rows, limit, sort)


async def get_department(session: AsyncSession, department_id: uuid.UUID) -> Department:
    department = await session.get(Department, department_id)
    if department is None:
        raise NotFound("department", department_id)
    return department


async def create_department(uow: UnitOfWork, values: Mapping[str, Any]) -> Department:
    async with uow:
        session = uow.session
        name_key = normalise(values["name"]) or ""
        await _require_unique_department_name(session, name_key, None)
        if values.get("parent_id") is not None:
            await lock_for_transaction(session, _DEPARTMENT_TREE)
            check_parent(None, await _lineage(session, values["parent_id"]))
        department = Department(
            id=uuid.uuid4(),
            name=values["name"],
            name_key=name_key,
            parent_id=values.get("parent_id"),
        )
        session.add(department)
        await _flush(session, "department")
    return department


async def update_department(
    uow: UnitOfWork, department_id: uuid.UUID, changes: Mapping[str, Any], expected: int | None
) -> Department:
    async with uow:
        session = uow.session
        if "parent_id" in changes:
            await lock_for_transaction(session, _DEPARTMENT_TREE)
        department = await get_department(session, department_id)
        check_version(department.version, expected)
        if "name" in changes:
            name_key = normalise(changes["name"]) or ""
            await _require_unique_department_name(session, name_key, department.id)
            department.name, department.name_key = changes["name"], name_key
        parent_id = changes.get("parent_id")
        if parent_id is not None and parent_id != department.parent_id:
            check_parent(department.id, await _lineage(session, parent_id))
        if "parent_id" in changes:
            department.parent_id = parent_id
        await _flush(session, "department")
    return department


async def list_departments(
    session: AsyncSession,
    parent_id: uuid.UUID | None,
    q: str | None,
    sort: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Department]:
    conditions: list[ColumnElement[bool]] = []
    if parent_id:
        conditions.append(Department.parent_id == parent_id)
    if q:
        conditions.append(prefix_match(Department.name_key, q))
    query = select(Department).where(and_(*conditions)) if conditions else select(Department)
    rows = list(await session.scalars(DEPARTMENTS.apply(query, sort, cursor, limit)))
    return DEPARTMENTS.page(rows, limit, sort)


async def _require_unique_email(
    session: AsyncSession, email_key: str, employee_id: uuid.UUID | None
) -> None:
    existing = await session.scalar(select(Employee.id).where(Employee.email_key == email_key))
    if existing is not None and existing != employee_id:
        raise Duplicate("An employee with this email exists already.", existing)


async def _require_department(session: AsyncSession, department_id: uuid.UUID | None) -> None:
    if department_id is None:
        return
    found = await session.scalar(select(Department.id).where(Department.id == department_id))
    if found is None:
        raise RuleViolation(
            f"There is no department {department_id}.",
            [{"field": "department_id", "message": "no such department"}],
        )


async def _require_manager(
    session: AsyncSession, employee_id: uuid.UUID | None, manager_id: uuid.UUID
) -> None:
    """The manager may manage the employee (None: a new one); see `check_manager`."""
    row = (
        await session.execute(
            select(Employee.id, Employee.status, Employee.manager_id).where(
                Employee.id == manager_id
            )
        )
    ).one_or_none()
    manager = Colleague(row.id, row.status, row.manager_id) if row else None
    chain: list[uuid.UUID] = []
    above = manager.manager_id if manager else None
    while above is not None and above not in chain and len(chain) < MAX_DEPTH:
        chain.append(above)
        above = await session.scalar(select(Employee.manager_id).where(Employee.id == above))
    check_manager(employee_id, manager, chain)


async def _lineage(session: AsyncSession, parent_id: uuid.UUID) -> Sequence[uuid.UUID] | None:
    """The department `parent_id` and its parents, nearest first; None if it does not
    exist."""
    lineage: list[uuid.UUID] = []
    current: uuid.UUID | None = parent_id
    while current is not None and current not in lineage and len(lineage) <= MAX_DEPTH:
        row = (
            await session.execute(select(Department.parent_id).where(Department.id == current))
        ).one_or_none()
        if row is None:
            return lineage or None
        lineage.append(current)
        current = row.parent_id
    return lineage


async def _require_unique_department_name(
    session: AsyncSession, name_key: str, department_id: uuid.UUID | None
) -> None:
    existing = await session.scalar(select(Department.id).where(Department.name_key == name_key))
    if existing is not None and existing != department_id:
        raise Duplicate("A department with this name exists already.", existing)


async def _flush(session: AsyncSession, entity: str) -> None:
    """Write the changes; a 409 if someone changed the record or took its email or name
    since it was read (the checks before ran without locks)."""
    try:
        await session.flush()
    except StaleDataError as exc:
        raise Conflict(f"The {entity} was changed meanwhile; fetch it again.") from exc
    except IntegrityError as exc:
        raise Conflict(f"Another {entity} took this name or email meanwhile.") from exc


def _today(uow: UnitOfWork) -> date:
    return uow.now().astimezone(uow.settings.company.zone).date()
