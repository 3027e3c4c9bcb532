"""Reserving stock for orders: a new or released order's lines, and backordered orders
first-come-first-served as stock arrives."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from erp.adapters.sales import Order, OrderLine
from erp.domain.orders import (
    BACKORDERED,
    CONFIRMED,
    PENDING,
    status_after_reservation,
    units_missing,
)
from erp.domain.stock import StockLine
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.domain import Conflict
from shared_schemas.events.erp.orders import OrderBackordered, OrderConfirmed, StockShortage


def order_header(order: Order) -> dict[str, Any]:
    """The fields every order event carries, the version after the change included."""
    return {
        "version": order.version,
        "order_id": order.id,
        "number": order.number,
        "quote_id": order.quote_id,
        "customer_id": order.customer_id,
    }


def missing(line: OrderLine) -> int:
    return units_missing(line.quantity, line.quantity_reserved, line.quantity_shipped)


async def flush_order(session: AsyncSession) -> None:
    """Write the order's changes; a 409 if someone changed it since it was read."""
    try:
        await session.flush()
    except StaleDataError as exc:
        raise Conflict("The order was changed meanwhile; fetch it again.") from exc


async def allocate(uow: UnitOfWork, order: Order, previous_status: str) -> None:
    """Reserve what the order's lines miss in its warehouse: confirmed when every unit is
    reserved, else backordered keeping what was; records the matching event.

    A held order being released is `previous_status` (on_hold) in the database until the
    reservation is made: stock levels are locked before the order's row, the order every
    writer of both takes. Nothing is written here: a caller that read the order before
    flushes it (`flush_order`) to learn whether someone changed it meanwhile; a new order
    (pending) is not in the database yet and is inserted by its caller once decided.
    """
    wanting = [line for line in order.lines if missing(line) > 0]
    await _reserve(uow, order, wanting)
    shortages = [
        StockShortage(
            sku=line.sku,
            product_id=line.product_id,
            quantity=line.quantity,
            quantity_missing=missing(line),
        )
        for line in order.lines
        if missing(line) > 0
    ]
    order.status = status_after_reservation(PENDING, fully_reserved=not shortages)
    order.hold_reason = None
    if order.status == CONFIRMED:
        # Confirmed as it was placed: the same moment, so its goods may have left from then.
        order.confirmed_at = order.created_at if previous_status == PENDING else uow.now()
    # The version the change gives the row, which the event carries.
    order.version += 1
    if shortages:
        await uow.record(
            OrderBackordered(
                **order_header(order), previous_status=previous_status, shortages=shortages
            )
        )
    else:
        await uow.record(OrderConfirmed(**order_header(order), previous_status=previous_status))


async def fill_backorders(
    uow: UnitOfWork, warehouse_id: uuid.UUID, product_ids: Collection[uuid.UUID]
) -> None:
    """Stock of `product_ids` became available in the warehouse: reserve it for the
    backordered orders waiting for it, oldest order first, each taking all it can before
    the next gets any; an order whose lines are now all reserved is
    confirmed (erp.order.confirmed.v1).

    Only lines of the given products are reserved, so only their levels are locked (the
    caller holds them already); the waiting orders are locked in FIFO order after them.
    """
    wanted = set(product_ids)
    if not wanted:
        return
    session = uow.session
    waiting = await session.scalars(
        select(Order)
        .where(_waiting_for(warehouse_id, wanted))
        .order_by(*_FIRST_COME)
        .options(selectinload(Order.lines))
        .with_for_update(of=Order)
        .execution_options(populate_existing=True)
    )
    exhausted: set[uuid.UUID] = set()
    for order in list(waiting):
        lines = [
            line
            for line in order.lines
            if line.product_id in wanted - exhausted and missing(line) > 0
        ]
        if not lines:
            continue
        asked = {line.id: missing(line) for line in lines}
        await _reserve(uow, order, lines)
        for line in lines:
            if missing(line) > 0:
                exhausted.add(line.product_id)
        if all(missing(line) == asked[line.id] for line in lines):
            continue  # nothing was left for this order
        if any(missing(line) > 0 for line in order.lines):
            # More is reserved but not all: a new version, so a concurrent change made on
            # what was read before fails instead of overwriting it.
            order.updated_at = uow.now()
            await flush_order(session)
        else:
            order.status = status_after_reservation(BACKORDERED, fully_reserved=True)
            order.confirmed_at = uow.now()
            await flush_order(session)
            await uow.record(OrderConfirmed(**order_header(order), previous_status=BACKORDERED))
        if exhausted >= wanted:
            break


async def lock_for_handover(
    uow: UnitOfWork, order: Order, product_ids: Collection[uuid.UUID]
) -> None:
    """Before `order` gives back units of `product_ids` for the backorders waiting for
    them (a cancellation): lock its row together with theirs, first come first served,
    the order `fill_backorders` (and so every receipt) locks waiting orders in. Writing
    the order's own row first and locking theirs after would deadlock with a receipt that
    holds an older waiting order and waits for this one. Only the rows are locked: the
    order as read is still written under its version check."""
    await uow.session.execute(
        select(Order.id)
        .where(or_(Order.id == order.id, _waiting_for(order.warehouse_id, set(product_ids))))
        .order_by(*_FIRST_COME)
        .with_for_update(of=Order)
    )


# Orders made in one transaction share created_at; their numbers were given in arrival
# order (a longer number is a later one past the zero-padded width).
_FIRST_COME = (Order.created_at, func.length(Order.number), Order.number)


def _waiting_for(
    warehouse_id: uuid.UUID, product_ids: Collection[uuid.UUID]
) -> ColumnElement[bool]:
    """Backordered orders of the warehouse with a line of `product_ids` still missing units."""
    needing = select(OrderLine.order_id).where(
        OrderLine.product_id.in_(product_ids),
        OrderLine.quantity_reserved + OrderLine.quantity_shipped < OrderLine.quantity,
    )
    return and_(
        Order.status == BACKORDERED,
        Order.warehouse_id == warehouse_id,
        Order.id.in_(needing),
    )


async def _reserve(uow: UnitOfWork, order: Order, lines: Sequence[OrderLine]) -> None:
    """Reserve the missing units of `lines` (as many as are available) and count them."""
    if not lines:
        return
    # Imported when used: the stock module calls fill_backorders after every receipt, so
    # it loads this module first.
    from erp.service import stock

    reserved = await stock.reserve(
        uow,
        order_id=order.id,
        warehouse_id=order.warehouse_id,
        lines=[StockLine(line.product_id, line.sku, missing(line)) for line in lines],
    )
    for line, units in zip(lines, reserved, strict=True):
        line.quantity_reserved += units
