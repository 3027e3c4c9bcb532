"""`erp.employee.terminated.v1` → every user linked to the employee is disabled and their
sessions end (refresh tokens revoked; access tokens refused by the gateway)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.config import Settings
from gateway.service.users import disable_employee_users
from shared_schemas.database import utcnow
from shared_schemas.events.base import CloudEvent, EventData
from shared_schemas.events.erp.employees import EmployeeTerminated
from shared_schemas.messaging import Handler, Outcome


def handlers(settings: Settings) -> Mapping[type[EventData], Handler]:
    async def disable_users(session: AsyncSession, event: CloudEvent[Any]) -> Outcome | None:
        data: EmployeeTerminated = event.data
        # Applied once (the inbox); applied again it would find no enabled user anyway.
        await disable_employee_users(
            session,
            data.employee_id,
            f"employee terminated on {data.terminated_on.isoformat()}",
            utcnow(),
        )
        return None

    return {EmployeeTerminated: disable_users}
