"""`/customers/{customer_id}/timeline`: a customer's activities and what ERP reported about
it, newest first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from crm.api.deps import UnitOfWorkDep
from crm.service import timeline
from shared_schemas.http.pagination import Cursor, Limit, Page
from shared_schemas.identity import Access, Authorize
from shared_schemas.permissions import may

router = APIRouter(prefix="/customers", tags=["customers"])

ReadAccess = Annotated[Access, Depends(Authorize("crm", "customers", "read"))]

# Each kind of fact ERP reports, and the ERP resource a role must read to see it.
ERP_SOURCES = {
    "order": "orders",
    "shipment": "orders",
    "invoice": "invoices",
    "payment": "payments",
}

TimelineKind = Annotated[str, Field(pattern=r"^[a-z_]+(\.[a-z_]+)*$", max_length=40)]


class TimelineItemOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "3e0c9b7a-6d5f-4a1b-9c2d-8e7f6a5b4c3d",
                    "kind": "activity.call",
                    "occurred_at": "2026-11-19T09:00:00Z",
                    "title": "Follow-up on the proposal",
                    "summary": "They accept the price; waiting for their PO.",
                    "details": {"author": "user-sales", "customer_id": "0b6f2f4e-..."},
                    "ref_type": "activity",
                    "ref_id": "3e0c9b7a-6d5f-4a1b-9c2d-8e7f6a5b4c3d",
                }
            ]
        },
    )

    id: uuid.UUID
    kind: str = Field(
        description="`activity.<kind>` for activities, the reported fact otherwise "
        "(`order.created`, `invoice.issued`, ...)."
    )
    occurred_at: datetime
    title: str
    summary: str | None
    details: dict[str, Any]
    ref_type: str = Field(description="activity, order, shipment, invoice or payment.")
    ref_id: uuid.UUID


@router.get(
    "/{customer_id}/timeline",
    summary="A customer's timeline, newest first",
    description=(
        "Activities on the customer, on its opportunities and on leads converted into it, "
        "merged with the orders, shipments, invoices and payments ERP reported. Roles that "
        "may not read activities see only what ERP reported, and of that only what they "
        "may read in ERP (support sees no invoices or payments, sales no payments)."
    ),
    responses={404: {"description": "No such customer"}},
)
async def customer_timeline(
    customer_id: uuid.UUID,
    access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    kind: Annotated[
        list[TimelineKind] | None,
        Query(
            description="Only these kinds: exact (`activity.call`, `invoice.issued`) or a "
            "whole family (`activity`, `order`). May repeat."
        ),
    ] = None,
) -> Page[TimelineItemOut]:
    roles = access.principal.roles
    include_activities = may(roles, "crm", "activities", "read")
    # What ERP reported shows to the roles that may read it in ERP, as the event stream
    # and the customer overview show it: a shipment follows its order.
    erp_facts = frozenset(
        kind for kind, resource in ERP_SOURCES.items() if may(roles, "erp", resource, "read")
    )
    async with uow:
        page = await timeline.customer_timeline(
            uow.session,
            customer_id,
            kinds=kind or [],
            include_activities=include_activities,
            erp_facts=erp_facts,
            cursor=cursor,
            limit=limit,
        )
    return Page[TimelineItemOut](
        items=[TimelineItemOut.model_validate(item) for item in page.items],
        next_cursor=page.next_cursor,
    )
