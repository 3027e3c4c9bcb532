"""Defining the custom fields customers may carry."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.customers import CustomFieldDefinition
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.domain import Duplicate


async def list_definitions(session: AsyncSession) -> Sequence[CustomFieldDefinition]:
    rows = await session.scalars(
        select(CustomFieldDefinition)
        .where(CustomFieldDefinition.entity == "customer")
        .order_by(CustomFieldDefinition.key)
    )
    return list(rows)


async def define(uow: UnitOfWork, values: Mapping[str, Any]) -> CustomFieldDefinition:
    async with uow:
        existing = await uow.session.scalar(
            select(CustomFieldDefinition.id).where(
                CustomFieldDefinition.entity == "customer",
                CustomFieldDefinition.key == values["key"],
            )
        )
        if existing is not None:
            raise Duplicate(f"A custom field {values['key']!r} exists already.", existing)
        definition = CustomFieldDefinition(id=uuid.uuid4(), entity="customer", **values)
        uow.session.add(definition)
        await uow.session.flush()
    return definition
