"""Use cases of support inquiries: open one, change it, move it through its life cycle,
find them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.customers import Customer
from crm.adapters.replicas import OrderReplica
from crm.adapters.service_desk import Inquiry
from crm.domain.inquiries import (
    DEFAULT_PRIORITY,
    FINAL,
    LIFECYCLE,
    UNRESOLVED,
    sla_due_at,
)
from crm.domain.staff import ASSIGNEE_ROLES
from crm.service.customers import check_version
from crm.service.staff import default_assignee, require_eligible
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.domain import Conflict, NotFound, RuleViolation
from shared_schemas.events.crm.inquiries import InquiryOpened, InquiryResolved
from shared_schemas.http.pagination import Page
from shared_schemas.identity import Access
from shared_schemas.listing import Listing, SortKey, normalise, prefix_match

LISTING = Listing(
    fields={
        "created_at": SortKey(Inquiry.created_at, datetime),
        "sla_due_at": SortKey(Inquiry.sla_due_at, datetime),
        "priority": SortKey(Inquiry.priority_rank, int),
    },
    id_column=Inquiry.id,
)

# Fields a PATCH may change; the status moves only through the transition routes.
EDITABLE = ("subject", "body", "priority", "assignee_id", "order_id")


async def get_inquiry(session: AsyncSession, inquiry_id: uuid.UUID) -> Inquiry:
    inquiry = await session.get(Inquiry, inquiry_id)
    if inquiry is None:
        raise NotFound("inquiry", inquiry_id)
    return inquiry


async def create_inquiry(uow: UnitOfWork, access: Access, values: Mapping[str, Any]) -> Inquiry:
    """A new inquiry in status `new`, its SLA due time set from its priority; publishes
    `crm.inquiry.opened.v1`."""
    access.require_fields(values)
    async with uow:
        session = uow.session
        customer_id: uuid.UUID = values["customer_id"]
        if await session.get(Customer, customer_id) is None:
            raise RuleViolation(
                f"There is no customer {customer_id}.",
                [{"field": "customer_id", "message": "no such customer"}],
            )
        order_id = values.get("order_id")
        await _check_order(session, order_id, customer_id)
        assignee_id = values.get("assignee_id")
        if assignee_id is None:
            assignee_id = await default_assignee(session, uow.principal, ASSIGNEE_ROLES)
        else:
            await require_eligible(session, assignee_id, ASSIGNEE_ROLES, "assignee_id")
        priority = values.get("priority") or DEFAULT_PRIORITY
        created_at = uow.now()
        inquiry = Inquiry(
            id=uuid.uuid4(),
            channel=values["channel"],
            subject=values["subject"],
            subject_key=normalise(values["subject"]) or "",
            body=values.get("body"),
            priority=priority,
            status="new",
            customer_id=customer_id,
            order_id=order_id,
            assignee_id=assignee_id,
            sla_due_at=sla_due_at(created_at, priority, uow.settings.sla_hours),
            created_at=created_at,
            updated_at=created_at,
        )
        session.add(inquiry)
        await session.flush()
        await uow.record(InquiryOpened(**_event_fields(inquiry), status="new"))
    return inquiry


async def update_inquiry(
    uow: UnitOfWork,
    access: Access,
    inquiry_id: uuid.UUID,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> Inquiry:
    """Change subject, body, priority (the SLA follows while unresolved), assignee or order.
    A closed inquiry is final."""
    async with uow:
        session = uow.session
        inquiry = await get_inquiry(session, inquiry_id)
        check_version(inquiry.version, expected_version)
        access.require_owner(inquiry.assignee_id)
        access.require_fields(changes)
        if inquiry.status == FINAL:
            raise Conflict(
                "A closed inquiry cannot be changed.",
                current_status=FINAL,
                allowed=LIFECYCLE.allowed(FINAL),
            )
        for name, value in changes.items():
            if name not in EDITABLE:
                continue
            if name == "assignee_id" and value is not None and value != inquiry.assignee_id:
                await require_eligible(session, value, ASSIGNEE_ROLES, "assignee_id")
            if name == "order_id" and value != inquiry.order_id:
                await _check_order(session, value, inquiry.customer_id)
            if name == "subject":
                inquiry.subject_key = normalise(value) or ""
            setattr(inquiry, name, value)
        if "priority" in changes and inquiry.status in UNRESOLVED:
            inquiry.sla_due_at = sla_due_at(
                inquiry.created_at, inquiry.priority, uow.settings.sla_hours
            )
        await session.flush()
    return inquiry


async def transition_inquiry(
    uow: UnitOfWork,
    access: Access,
    inquiry_id: uuid.UUID,
    action: str,
    expected_version: int | None,
    *,
    resolution: str | None = None,
) -> Inquiry:
    """Move an inquiry by `action` (open, pend, resume, resolve, reopen, close); 409 naming
    the current status and the allowed actions when the life cycle does not allow it.
    Resolving publishes `crm.inquiry.resolved.v1`."""
    async with uow:
        session = uow.session
        inquiry = await get_inquiry(session, inquiry_id)
        check_version(inquiry.version, expected_version)
        access.require_owner(inquiry.assignee_id)
        previous = inquiry.status
        inquiry.status = LIFECYCLE.next(previous, action)
        now = uow.now()
        if action == "resolve":
            inquiry.resolved_at = now
            inquiry.resolution = resolution
        elif action == "reopen":
            # A reopened case is unresolved again; its old resolution no longer holds.
            inquiry.resolved_at = None
            inquiry.resolution = None
        elif action == "close":
            inquiry.closed_at = now
        await session.flush()
        if action == "resolve":
            assert inquiry.resolved_at is not None
            await uow.record(
                InquiryResolved(
                    **_event_fields(inquiry),
                    previous_status=previous,
                    resolved_at=inquiry.resolved_at,
                    resolution=inquiry.resolution,
                )
            )
    return inquiry


@dataclass(frozen=True)
class InquiryFilters:
    q: str | None = None
    statuses: list[str] = field(default_factory=list)
    priorities: list[str] = field(default_factory=list)
    customer_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    overdue: bool | None = None


async def list_inquiries(
    session: AsyncSession,
    filters: InquiryFilters,
    now: datetime,
    sort: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Inquiry]:
    conditions: list[Any] = []
    if filters.q:
        conditions.append(prefix_match(Inquiry.subject_key, filters.q))
    if filters.statuses:
        conditions.append(Inquiry.status.in_(filters.statuses))
    if filters.priorities:
        conditions.append(Inquiry.priority.in_(filters.priorities))
    if filters.customer_id:
        conditions.append(Inquiry.customer_id == filters.customer_id)
    if filters.assignee_id:
        conditions.append(Inquiry.assignee_id == filters.assignee_id)
    if filters.order_id:
        conditions.append(Inquiry.order_id == filters.order_id)
    if filters.created_from:
        conditions.append(Inquiry.created_at >= filters.created_from)
    if filters.created_to:
        conditions.append(Inquiry.created_at < filters.created_to)
    if filters.overdue is not None:
        overdue = and_(Inquiry.status.in_(UNRESOLVED), Inquiry.sla_due_at < now)
        conditions.append(overdue if filters.overdue else not_(overdue))
    query = select(Inquiry).where(and_(*conditions)) if conditions else select(Inquiry)
    rows = list(await session.scalars(LISTING.apply(query, sort, cursor, limit)))
    return LISTING.page(rows, limit, sort)


async def _check_order(
    session: AsyncSession, order_id: uuid.UUID | None, customer_id: uuid.UUID
) -> None:
    """An order ERP already reported must be the customer's; one not reported yet is
    taken on trust (the order replica may lag behind ERP)."""
    if order_id is None:
        return
    order = await session.get(OrderReplica, order_id)
    if order is not None and order.customer_id != customer_id:
        raise RuleViolation(
            "The order belongs to another customer.",
            [{"field": "order_id", "message": "an order of another customer"}],
        )


def _event_fields(inquiry: Inquiry) -> dict[str, Any]:
    return {
        "version": inquiry.version,
        "inquiry_id": inquiry.id,
        "customer_id": inquiry.customer_id,
        "order_id": inquiry.order_id,
        "assignee_id": inquiry.assignee_id,
        "channel": inquiry.channel,
        "subject": inquiry.subject,
        "priority": inquiry.priority,
        "sla_due_at": inquiry.sla_due_at,
    }
