"""`erp.order.*` → the order replica, the order's status on its quote, the customer's last
order, and one timeline entry per order event."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.customers import Customer
from crm.adapters.quotes import Quote
from crm.adapters.replicas import OrderReplica, TimelineEntry
from crm.config import Settings
from shared_schemas.events.base import CloudEvent, EventData
from shared_schemas.events.documents import PricedLine, ShipmentLine
from shared_schemas.events.erp.orders import (
    OrderBackordered,
    OrderCancelled,
    OrderConfirmed,
    OrderCreated,
    OrderDelivered,
    OrderEvent,
    OrderOnHold,
    OrderShipped,
)
from shared_schemas.messaging import Handler, Outcome

ORDER_CREATED = "order.created"
ORDER_SHIPPED = "order.shipped"


def handlers(settings: Settings) -> Mapping[type[EventData], Handler]:
    currency = settings.company.currency

    async def apply(session: AsyncSession, event: CloudEvent[Any]) -> Outcome | None:
        return await apply_order(session, event, currency)

    return {
        event_type: apply
        for event_type in (
            OrderCreated,
            OrderConfirmed,
            OrderBackordered,
            OrderOnHold,
            OrderShipped,
            OrderDelivered,
            OrderCancelled,
        )
    }


async def apply_order(
    session: AsyncSession, event: CloudEvent[Any], company_currency: str
) -> Outcome | None:
    """Newest version wins. Two events are facts that still count when they arrive after a
    later one (replayed from the dead letters): the creation brings what only it carries
    (total, currency, ordered_at, the customer's last order, its timeline entry), and a
    shipment its timeline entry, the one place its carrier and tracking number show.
    Neither turns the status back."""
    data: OrderEvent = event.data
    order = await session.get(OrderReplica, data.order_id)
    newer = order is None or data.version > order.version
    if not newer and not await _late_fact(session, data):
        return Outcome.SUPERSEDED
    if order is None:
        # Until the creation arrives, the company currency, a zero total and the first
        # event's time stand in for what only the creation carries.
        order = OrderReplica(
            id=data.order_id,
            currency=company_currency,
            total=Decimal("0.00"),
            ordered_at=event.time,
        )
        session.add(order)
    if newer:
        order.number = data.number
        order.quote_id = data.quote_id
        order.customer_id = data.customer_id
        order.status = data.status
        order.version = data.version
    if isinstance(data, OrderCreated | OrderOnHold):
        order.currency, order.total = data.currency, data.total
    if isinstance(data, OrderCreated):
        order.ordered_at = event.time
    await session.flush()

    await _show_on_quote(session, data)
    if isinstance(data, OrderCreated):
        await _note_last_order(session, data, event.time)
    await add_to_timeline(session, event, data.customer_id, _timeline_line(data))
    return None


async def _late_fact(session: AsyncSession, data: OrderEvent) -> bool:
    """Whether an event older than the replica is a creation or shipment not recorded yet."""
    if isinstance(data, OrderCreated):
        return not await fact_recorded(session, ORDER_CREATED, data.customer_id, data.order_id)
    if isinstance(data, OrderShipped):
        return not await fact_recorded(session, ORDER_SHIPPED, data.customer_id, data.shipment_id)
    return False


async def _show_on_quote(session: AsyncSession, data: OrderEvent) -> None:
    """The quote the order came from shows its order; an older event never overwrites a
    newer one. A quote CRM does not know (order entered in ERP) is simply not updated.

    A Core UPDATE, so the quote's version (its ETag and the version its crm.quote.* events
    carry) stays CRM's own, and the version guard holds under concurrent consumers."""
    if data.quote_id is None:
        return
    await session.execute(
        update(Quote)
        .where(
            Quote.id == data.quote_id,
            or_(Quote.order_version.is_(None), Quote.order_version < data.version),
        )
        .values(
            order_id=data.order_id,
            order_number=data.number,
            order_status=data.status,
            order_version=data.version,
            updated_at=Quote.updated_at,
        )
        .execution_options(synchronize_session=False)
    )


async def _note_last_order(session: AsyncSession, data: OrderCreated, ordered_at: datetime) -> None:
    """The customer's newest order by order time. ERP-derived, so written with a Core
    UPDATE: the customer's version and updated_at (and its crm.customer.* events) only
    change with what CRM users change. An unknown customer matches no row: fine."""
    await session.execute(
        update(Customer)
        .where(
            Customer.id == data.customer_id,
            or_(Customer.last_order_at.is_(None), Customer.last_order_at < ordered_at),
        )
        .values(
            last_order_id=data.order_id,
            last_order_number=data.number,
            last_order_at=ordered_at,
            updated_at=Customer.updated_at,
        )
        .execution_options(synchronize_session=False)
    )


class TimelineLine(NamedTuple):
    """What an event shows on the customer's timeline, and what it refers to."""

    title: str
    ref_type: str  # order | shipment | invoice | payment
    ref_id: uuid.UUID
    summary: str | None = None


def items(lines: Sequence[ShipmentLine | PricedLine]) -> str:
    """`3 x CHAIR-01, 1 x DESK-02`: what a document or shipment carries."""
    return ", ".join(f"{line.quantity} x {line.sku}" for line in lines)


def _timeline_line(data: OrderEvent) -> TimelineLine:
    order = f"Order {data.number}"
    if isinstance(data, OrderCreated):
        title = f"{order} placed: {data.total:.2f} {data.currency}"
        return TimelineLine(title, "order", data.order_id, items(data.lines))
    if isinstance(data, OrderConfirmed):
        return TimelineLine(f"{order} confirmed, stock reserved", "order", data.order_id)
    if isinstance(data, OrderBackordered):
        missing = ", ".join(f"{s.quantity_missing} x {s.sku}" for s in data.shortages)
        return TimelineLine(f"{order} backordered, waiting for {missing}", "order", data.order_id)
    if isinstance(data, OrderOnHold):
        title = (
            f"{order} on hold: credit limit exceeded "
            f"({data.credit_exposure:.2f} of {data.credit_limit:.2f} {data.currency})"
        )
        return TimelineLine(title, "order", data.order_id)
    if isinstance(data, OrderShipped):
        what = "partially shipped" if data.status == "partially_shipped" else "shipped"
        via = f" via {data.carrier}" if data.carrier else ""
        tracking = f", tracking {data.tracking_number}" if data.tracking_number else ""
        title = f"{order} {what}{via}{tracking}"
        return TimelineLine(title, "shipment", data.shipment_id, items(data.lines))
    if isinstance(data, OrderDelivered):
        return TimelineLine(f"{order} delivered", "order", data.order_id)
    if isinstance(data, OrderCancelled):
        reason = f": {data.reason}" if data.reason else ""
        return TimelineLine(f"{order} cancelled{reason}", "order", data.order_id)
    return TimelineLine(f"{order} is {data.status}", "order", data.order_id)


async def add_to_timeline(
    session: AsyncSession, event: CloudEvent[Any], customer_id: uuid.UUID, line: TimelineLine
) -> None:
    """One entry per event id, at the event's time, with the event's data as details. The
    inbox already drops redeliveries; the check keeps a replayed dead letter from meeting
    the unique index."""
    known = await session.scalar(select(TimelineEntry.id).where(TimelineEntry.event_id == event.id))
    if known is not None:
        return
    details = event.data.model_dump(mode="json")
    if line.summary:
        details["summary"] = line.summary
    session.add(
        TimelineEntry(
            event_id=event.id,
            customer_id=customer_id,
            occurred_at=event.time,
            kind=timeline_kind(event.type),
            title=line.title[:300],
            ref_type=line.ref_type,
            ref_id=line.ref_id,
            details=details,
        )
    )


def timeline_kind(event_type: str) -> str:
    """How the timeline names an ERP fact: `erp.order.shipped.v1` → `order.shipped`."""
    return event_type.removeprefix("erp.").rsplit(".", 1)[0]


async def fact_recorded(
    session: AsyncSession, kind: str, customer_id: uuid.UUID, ref_id: uuid.UUID
) -> bool:
    """Whether an event of this kind about this document was applied (its timeline entry
    exists)."""
    found = await session.scalar(
        select(TimelineEntry.id).where(
            TimelineEntry.customer_id == customer_id,
            TimelineEntry.kind == kind,
            TimelineEntry.ref_id == ref_id,
        )
    )
    return found is not None
