"""Use cases of activities (calls, emails, meetings, notes, visits): log one on a customer,
lead or opportunity, change or delete it (the author's own record), find them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.customers import Customer
from crm.adapters.orm import Base
from crm.adapters.pipeline import Lead, Opportunity
from crm.adapters.service_desk import Activity
from crm.domain.activities import GeoPoint, Target, target_of
from crm.service.customers import check_version
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.domain import NotFound, RuleViolation
from shared_schemas.http.pagination import Page
from shared_schemas.identity import Access
from shared_schemas.listing import Listing, SortKey

LISTING = Listing(
    fields={
        "occurred_at": SortKey(Activity.occurred_at, datetime),
        "created_at": SortKey(Activity.created_at, datetime),
    },
    id_column=Activity.id,
    default="-occurred_at",
)

# Fields a PATCH may change; what an activity is about stays as logged.
EDITABLE = ("kind", "subject", "body", "occurred_at", "location")

_TARGET_TABLES: Mapping[str, type[Base]] = {
    "customer_id": Customer,
    "lead_id": Lead,
    "opportunity_id": Opportunity,
}
# The resource a role must read to log an activity on a record of each kind: one it may
# not read is refused before it is looked up, so the answer tells nothing of its being.
_TARGET_RESOURCES: Mapping[str, str] = {
    "customer_id": "customers",
    "lead_id": "leads",
    "opportunity_id": "opportunities",
}


async def get_activity(session: AsyncSession, activity_id: uuid.UUID) -> Activity:
    activity = await session.get(Activity, activity_id)
    if activity is None:
        raise NotFound("activity", activity_id)
    return activity


async def log_activity(uow: UnitOfWork, access: Access, values: Mapping[str, Any]) -> Activity:
    """A new activity owned by the caller's employee id and authored by the caller.

    No event: the event catalogue has no activity types, activities stay inside the CRM.
    """
    access.require_fields(values)
    target = target_of(values)
    access.for_action("read", _TARGET_RESOURCES[target.field])
    point = _point(values.get("location"))
    async with uow:
        session = uow.session
        await _require_target(session, target)
        now = uow.now()
        principal = uow.principal
        activity = Activity(
            id=uuid.uuid4(),
            kind=values["kind"],
            subject=values["subject"],
            body=values.get("body"),
            occurred_at=values.get("occurred_at") or now,
            latitude=point.latitude if point else None,
            longitude=point.longitude if point else None,
            owner_id=principal.employee_id if principal else None,
            author=uow.actor,
            created_at=now,
            updated_at=now,
            **{target.field: target.record_id},
        )
        session.add(activity)
        await session.flush()
    return activity


async def update_activity(
    uow: UnitOfWork,
    access: Access,
    activity_id: uuid.UUID,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> Activity:
    """Change an activity; sales only their own (403 otherwise)."""
    async with uow:
        activity = await get_activity(uow.session, activity_id)
        check_version(activity.version, expected_version)
        access.require_owner(activity.owner_id)
        access.require_fields(changes)
        for name, value in changes.items():
            if name not in EDITABLE:
                continue
            if name == "location":
                point = _point(value)
                activity.latitude = point.latitude if point else None
                activity.longitude = point.longitude if point else None
            else:
                setattr(activity, name, value)
        await uow.session.flush()
    return activity


async def delete_activity(
    uow: UnitOfWork, access: Access, activity_id: uuid.UUID, expected_version: int | None
) -> None:
    """Remove an activity; sales only their own (403 otherwise)."""
    async with uow:
        activity = await get_activity(uow.session, activity_id)
        check_version(activity.version, expected_version)
        access.require_owner(activity.owner_id)
        await uow.session.delete(activity)


@dataclass(frozen=True)
class ActivityFilters:
    kinds: list[str] = field(default_factory=list)
    customer_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    opportunity_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


async def list_activities(
    session: AsyncSession,
    filters: ActivityFilters,
    sort: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Activity]:
    conditions: list[Any] = []
    if filters.kinds:
        conditions.append(Activity.kind.in_(filters.kinds))
    if filters.customer_id:
        conditions.append(Activity.customer_id == filters.customer_id)
    if filters.lead_id:
        conditions.append(Activity.lead_id == filters.lead_id)
    if filters.opportunity_id:
        conditions.append(Activity.opportunity_id == filters.opportunity_id)
    if filters.owner_id:
        conditions.append(Activity.owner_id == filters.owner_id)
    if filters.occurred_from:
        conditions.append(Activity.occurred_at >= filters.occurred_from)
    if filters.occurred_to:
        conditions.append(Activity.occurred_at < filters.occurred_to)
    query = select(Activity).where(and_(*conditions)) if conditions else select(Activity)
    rows = list(await session.scalars(LISTING.apply(query, sort, cursor, limit)))
    return LISTING.page(rows, limit, sort)


async def _require_target(session: AsyncSession, target: Target) -> None:
    if await session.get(_TARGET_TABLES[target.field], target.record_id) is None:
        raise RuleViolation(
            f"There is no {target.entity} {target.record_id}.",
            [{"field": target.field, "message": f"no such {target.entity}"}],
        )


def _point(location: Any) -> GeoPoint | None:
    if location is None:
        return None
    if hasattr(location, "model_dump"):
        location = location.model_dump()
    return GeoPoint.of(location["latitude"], location["longitude"])
