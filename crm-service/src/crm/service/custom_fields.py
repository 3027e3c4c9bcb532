"""Defining the custom fields customers may carry."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.customers import CustomFieldDefinition
from crm.domain.customers import FieldDefinition
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.domain import Duplicate

# Definitions change rarely and are read on every customer write: each process keeps
# them, keyed by a stamp (count, latest change) that writers read in the same round trip
# as their other checks, so a definition added by any replica is seen at once.
_cache: dict[str, tuple[tuple[Any, ...], dict[str, FieldDefinition]]] = {}


STAMP_COLUMNS: tuple[Any, ...] = (
    select(func.count(CustomFieldDefinition.id)).scalar_subquery().label("definitions"),
    select(func.max(CustomFieldDefinition.updated_at))
    .scalar_subquery()
    .label("definitions_changed"),
)
"""Columns that change whenever a definition is added or changed."""


async def definitions_for(
    session: AsyncSession, stamp: tuple[Any, ...]
) -> dict[str, FieldDefinition]:
    """The definitions as of `stamp` (read from the database only when it moved on)."""
    key = str(session.get_bind().engine.url)
    cached = _cache.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rows = await session.scalars(
        select(CustomFieldDefinition).where(CustomFieldDefinition.entity == "customer")
    )
    found = {
        row.key: FieldDefinition(row.key, row.type, row.required, tuple(row.options or ()))
        for row in rows
    }
    _cache[key] = (stamp, found)
    return found


async def current_definitions(session: AsyncSession) -> dict[str, FieldDefinition]:
    stamp = tuple((await session.execute(select(*STAMP_COLUMNS))).one())
    return await definitions_for(session, stamp)


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
