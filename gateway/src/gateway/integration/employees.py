"""`erp.employee.terminated.v1` → every user linked to the employee is disabled and their
sessions end (refresh tokens revoked; access tokens refused by the gateway), and no user
is linked to them or enabled while linked from then on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.config import Settings
from gateway.service.users import record_termination
from shared_schemas.database import utcnow
from shared_schemas.events.base import CloudEvent, EventData
from shared_schemas.events.erp.employees import EmployeeTerminated
from shared_schemas.messaging import Handler, Outcome


def handlers(settings: Settings) -> Mapping[type[EventData], Handler]:
    async def disable_users(session: AsyncSession, event: CloudEvent[Any]) -> Outcome | None:
        data: EmployeeTerminated = event.data
        # Applied once (the inbox); applied again it would find no enabled user anyway.
        await record_termination(session, data.employee_id, data.terminated_on, utcnow())
        return None

    return {EmployeeTerminated: disable_users}
