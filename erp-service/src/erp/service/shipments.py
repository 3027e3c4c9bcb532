"""Use cases of shipments: ship (part of) an order from its reservations, mark it
delivered, and find shipments."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from erp.adapters.orm import document_sequences
from erp.adapters.sales import Order, OrderLine, Shipment, ShipmentLine
from erp.domain import orders as order_rules
from erp.domain.stock import StockLine
from erp.service import stock, valuation
from erp.service.backorders import flush_order, order_header
from erp.service.catalog import check_version
from erp.service.orders import get_order
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.domain import Conflict, NotFound, RuleViolation
from shared_schemas.events.documents import ShipmentLine as ShipmentLineData
from shared_schemas.events.erp.orders import OrderDelivered, OrderShipped
from shared_schemas.http.pagination import Page
from shared_schemas.listing import Listing, SortKey, normalise, number_prefix_match, prefix_match
from shared_schemas.numbering import next_number

LISTING = Listing(
    fields={
        "created_at": SortKey(Shipment.created_at, datetime),
        "shipped_at": SortKey(Shipment.shipped_at, datetime),
    },
    id_column=Shipment.id,
)

# Clocks of handheld scanners and servers disagree a little; more than this is a mistake.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class RequestedLine:
    """One line of a shipment as asked for: an order line named by its id or its sku."""

    quantity: int
    sku: str | None = None
    order_line_id: uuid.UUID | None = None


@dataclass(frozen=True)
class PlannedLine:
    """An order line and the units of it this shipment carries."""

    line: OrderLine
    quantity: int


def plan_shipment(
    order_lines: Sequence[OrderLine], requested: Sequence[RequestedLine]
) -> list[PlannedLine]:
    """Match the requested lines to the order's and check the quantities.

    Every bad line is reported at once, each error naming its line (`lines.2.quantity`):
    an unknown or ambiguous line, a line given twice, or more than is left to ship of it
    (a 422). Within what was ordered, a line may only ship what is reserved for it and
    not shipped yet (a 409: the stock, not the request, is what is missing).
    """
    errors: list[dict[str, str]] = []
    planned: list[PlannedLine] = []
    seen: set[uuid.UUID] = set()
    for index, wanted in enumerate(requested):
        field = f"lines.{index}"
        line, error = _match(order_lines, wanted, field)
        if line is None:
            errors.append(error)
            continue
        if line.id in seen:
            errors.append(
                {"field": field, "message": f"order line {line.sku} is named twice; merge them"}
            )
            continue
        seen.add(line.id)
        left = line.quantity - line.quantity_shipped
        if wanted.quantity > left:
            errors.append(
                {
                    "field": f"{field}.quantity",
                    "message": f"{line.sku}: {wanted.quantity} is more than the {left} "
                    f"of {line.quantity} ordered units not shipped yet",
                }
            )
            continue
        planned.append(PlannedLine(line, wanted.quantity))
    if errors:
        raise RuleViolation("Some lines cannot be shipped as asked.", errors)
    short = [
        {
            "field": f"lines.{index}.quantity",
            "message": f"{plan.line.sku}: only {ready} units are reserved and not shipped yet",
        }
        for index, plan in enumerate(planned)
        if plan.quantity > (ready := plan.line.quantity_reserved)
    ]
    if short:
        raise Conflict("Only reserved units can be shipped.", errors=short)
    return planned


def _match(
    order_lines: Sequence[OrderLine], wanted: RequestedLine, field: str
) -> tuple[OrderLine | None, dict[str, str]]:
    if (wanted.sku is None) == (wanted.order_line_id is None):
        return None, {"field": field, "message": "give either sku or order_line_id"}
    if wanted.order_line_id is not None:
        for line in order_lines:
            if line.id == wanted.order_line_id:
                return line, {}
        return None, {
            "field": f"{field}.order_line_id",
            "message": "not a line of this order",
        }
    matches = [line for line in order_lines if line.sku == wanted.sku]
    if not matches:
        return None, {"field": f"{field}.sku", "message": f"the order has no line of {wanted.sku}"}
    if len(matches) > 1:
        return None, {
            "field": f"{field}.sku",
            "message": f"the order has several lines of {wanted.sku}; name the order_line_id",
        }
    return matches[0], {}


async def ship_order(
    uow: UnitOfWork,
    order_id: uuid.UUID,
    *,
    lines: Sequence[RequestedLine],
    carrier: str | None,
    tracking_number: str | None,
    shipped_at: datetime | None,
    expected_version: int | None,
) -> tuple[Shipment, Order]:
    """A shipment, numbered `SH-<year>-<seq>`, of reserved units of a confirmed or partly
    shipped order: the reservations are consumed (on_hand and reserved drop), the order
    becomes partially_shipped or shipped, and erp.order.shipped.v1 is published.

    Returns the shipment and the order as it now is."""
    async with uow:
        session = uow.session
        # Read, not locked: stock levels are locked before the order's row, the order every
        # writer of both takes. A change to the order meanwhile fails the version check
        # when the order is written (409), and stock.ship counts what the order holds
        # under the level locks.
        order = await get_order(session, order_id)
        check_version(order.version, expected_version)
        # Refuse a pending, held, backordered, cancelled or shipped order before anything
        # else: 409 naming what the order may do instead.
        order_rules.status_after_shipment(order.status, fully_shipped=False)
        now = uow.now()
        when = shipped_at or now
        # Not before the order had its goods: a backordered or held order got them when it
        # was confirmed, and its cost of goods and invoice are dated when they left.
        _check_moment("shipped_at", when, earliest=order.confirmed_at or order.created_at, now=now)
        planned = plan_shipment(order.lines, lines)
        number = await next_number(
            session, document_sequences, "SH", when.astimezone(uow.settings.company.zone).year
        )
        # The levels before the shipment's row: inserting it key-share locks the order's
        # row (its foreign key), which a cancellation waiting for these levels would then
        # wait for in turn, once it holds them (see `lock_for_handover`).
        await stock.hold_levels(
            uow,
            {(plan.line.product_id, order.warehouse_id): plan.line.sku for plan in planned},
        )
        shipment = Shipment(
            id=uuid.uuid4(),
            number=number,
            order_id=order.id,
            warehouse_id=order.warehouse_id,
            carrier=carrier,
            tracking_number=tracking_number,
            tracking_key=normalise(tracking_number),
            shipped_at=when,
            created_by=uow.actor,
            lines=[
                ShipmentLine(
                    order_line_id=plan.line.id,
                    product_id=plan.line.product_id,
                    sku=plan.line.sku,
                    quantity=plan.quantity,
                )
                for plan in planned
            ],
        )
        session.add(shipment)
        await session.flush()
        await stock.ship(
            uow,
            order_id=order.id,
            shipment_id=shipment.id,
            warehouse_id=order.warehouse_id,
            lines=_stock_lines(planned),
        )
        shipped: dict[uuid.UUID, int] = {}
        for plan in planned:
            shipped[plan.line.product_id] = shipped.get(plan.line.product_id, 0) + plan.quantity
        await valuation.post_shipment_cost(
            uow,
            shipment.id,
            shipment.number,
            shipped,
            when.astimezone(uow.settings.company.zone).date(),
        )
        for plan in planned:
            # quantity_reserved counts units reserved and not shipped yet.
            plan.line.quantity_reserved -= plan.quantity
            plan.line.quantity_shipped += plan.quantity
        fully = all(line.quantity_shipped == line.quantity for line in order.lines)
        if fully:
            # Shipments may be recorded after the fact, out of order: the order left in
            # full when its latest shipment did. Read before the order changes: the query
            # flushes what is pending, and an order changed by then would be written twice
            # (a version no event carries) outside flush_order's conflict check.
            order.shipped_at = await session.scalar(
                select(func.max(Shipment.shipped_at)).where(Shipment.order_id == order.id)
            )
        order.status = order_rules.status_after_shipment(order.status, fully)
        # A second partial shipment leaves the status as it was; the order still changed,
        # and its events need a newer version than the last one.
        order.updated_at = now
        await flush_order(session)
        await uow.record(
            OrderShipped(
                **order_header(order),
                status=order.status,
                shipment_id=shipment.id,
                shipment_number=shipment.number,
                lines=[
                    ShipmentLineData(
                        sku=line.sku, product_id=line.product_id, quantity=line.quantity
                    )
                    for line in shipment.lines
                ],
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                shipped_at=shipment.shipped_at,
            )
        )
    return shipment, order


async def deliver_order(
    uow: UnitOfWork,
    order_id: uuid.UUID,
    *,
    delivered_at: datetime | None,
    expected_version: int | None,
) -> Order:
    """shipped → delivered (a partly shipped order is not delivered until all of it has
    shipped); publishes erp.order.delivered.v1."""
    async with uow:
        session = uow.session
        order = await get_order(session, order_id)
        check_version(order.version, expected_version)
        order.status = order_rules.LIFECYCLE.next(order.status, "deliver")
        now = uow.now()
        when = delivered_at or now
        _check_moment("delivered_at", when, earliest=order.shipped_at or order.created_at, now=now)
        order.delivered_at = when
        await flush_order(session)
        await uow.record(OrderDelivered(**order_header(order), delivered_at=when))
    return order


async def get_shipment(session: AsyncSession, shipment_id: uuid.UUID) -> Shipment:
    shipment = await session.get(Shipment, shipment_id, options=_WITH_DETAILS)
    if shipment is None:
        raise NotFound("shipment", shipment_id)
    return shipment


@dataclass(frozen=True)
class ShipmentFilters:
    order_id: uuid.UUID | None = None
    carrier: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    customer_id: uuid.UUID | None = None
    # A prefix of the number or of the tracking number.
    q: str | None = None


async def list_shipments(
    session: AsyncSession,
    filters: ShipmentFilters,
    sort: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Shipment]:
    query = _filtered(select(Shipment).options(*_WITH_DETAILS), filters)
    if filters.q:
        searched = [
            number_prefix_match(Shipment.number, filters.q),
            prefix_match(Shipment.tracking_key, filters.q),
        ]
        query = LISTING.apply_any_of(query, searched, sort, cursor, limit).options(*_WITH_DETAILS)
    else:
        query = LISTING.apply(query, sort, cursor, limit)
    rows = list(await session.scalars(query))
    return LISTING.page(rows, limit, sort)


async def require_order(session: AsyncSession, order_id: uuid.UUID) -> None:
    """404 unless the order exists (listing an unknown order's shipments is no empty list)."""
    if await session.scalar(select(Order.id).where(Order.id == order_id)) is None:
        raise NotFound("order", order_id)


_WITH_DETAILS = [selectinload(Shipment.lines)]


def _filtered(query: Select[Any], filters: ShipmentFilters) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if filters.order_id:
        conditions.append(Shipment.order_id == filters.order_id)
    if filters.carrier:
        conditions.append(Shipment.carrier == filters.carrier)
    if filters.created_from:
        conditions.append(Shipment.created_at >= filters.created_from)
    if filters.created_to:
        conditions.append(Shipment.created_at < filters.created_to)
    if filters.customer_id:
        orders = select(Order.id).where(Order.customer_id == filters.customer_id)
        conditions.append(Shipment.order_id.in_(orders))
    return query.where(and_(*conditions)) if conditions else query


def _stock_lines(planned: Sequence[PlannedLine]) -> list[StockLine]:
    # One stock line per product, in a fixed order: two order lines of one product
    # consume one level.
    units: dict[uuid.UUID, tuple[str, int]] = {}
    for plan in planned:
        sku, quantity = units.get(plan.line.product_id, (plan.line.sku, 0))
        units[plan.line.product_id] = (sku, quantity + plan.quantity)
    return [
        StockLine(product_id=product_id, sku=sku, quantity=quantity)
        for product_id, (sku, quantity) in sorted(units.items())
    ]


def _check_moment(field: str, when: datetime, *, earliest: datetime, now: datetime) -> None:
    if when > now + CLOCK_SKEW:
        raise RuleViolation(
            f"{field} is in the future.", [{"field": field, "message": "must not be in the future"}]
        )
    if when < earliest:
        raise RuleViolation(
            f"{field} is before {earliest.isoformat()}.",
            [{"field": field, "message": f"must be {earliest.isoformat()} or later"}],
        )
