"""`erp.employee.*` → the employee replica (role and manager decide who may own what);
a termination hands the leaver's open records over."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.replicas import EmployeeReplica
from crm.config import Settings
from crm.service.reassignment import reassign_open_records
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.events.base import CloudEvent, EventData
from shared_schemas.events.erp.employees import (
    EmployeeHired,
    EmployeeTerminated,
    EmployeeUpdated,
)
from shared_schemas.messaging import Handler, Outcome


def handlers(settings: Settings) -> Mapping[type[EventData], Handler]:
    async def apply_employee(session: AsyncSession, event: CloudEvent[Any]) -> Outcome | None:
        data = event.data
        employee = await session.get(EmployeeReplica, data.employee_id)
        if employee is not None and employee.version >= data.version:
            return Outcome.SUPERSEDED
        was_active = employee is None or employee.status == "active"
        if employee is None:
            employee = EmployeeReplica(id=data.employee_id)
            session.add(employee)
        employee.name = data.name
        employee.email = data.email
        employee.role = data.role.value
        employee.title = data.title
        employee.department_id = data.department_id
        employee.manager_id = data.manager_id
        employee.status = data.status
        employee.version = data.version
        employee.updated_at = event.time
        await session.flush()
        if data.status == "terminated" and was_active:
            async with UnitOfWork.joining(session, settings) as uow:
                await reassign_open_records(uow, employee)
        return None

    return {
        EmployeeHired: apply_employee,
        EmployeeUpdated: apply_employee,
        EmployeeTerminated: apply_employee,
    }
