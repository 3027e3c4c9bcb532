"""Use cases of sales orders: create (from the API or an accepted quote) with the credit
check and reservation, release a credit hold, cancel, and find orders."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from erp.adapters.catalog import Product
from erp.adapters.orm import document_sequences
from erp.adapters.replicas import CustomerReplica, lock_customers
from erp.adapters.sales import Order, OrderLine
from erp.domain.orders import (
    ALLOCATION,
    HOLD_CREDIT,
    LIFECYCLE,
    ON_HOLD,
    PENDING,
    CatalogueItem,
    PricedLine,
    over_credit_limit,
    price_lines,
)
from erp.domain.stock import StockLine
from erp.service import credit, stock
from erp.service.backorders import (
    allocate,
    fill_backorders,
    flush_order,
    lock_for_handover,
    order_header,
)
from erp.service.catalog import check_version, default_warehouse
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.database import column_values, table_of
from shared_schemas.domain import NotFound, RuleViolation
from shared_schemas.events.documents import OrderLine as OrderLineData
from shared_schemas.events.erp.orders import OrderCancelled, OrderCreated, OrderOnHold
from shared_schemas.events.values import Address, CustomerSnapshot
from shared_schemas.http.pagination import Page
from shared_schemas.listing import Listing, SortKey, number_prefix_match
from shared_schemas.messaging import EventContext, recorded_as
from shared_schemas.money import ZERO, Totals
from shared_schemas.numbering import next_numbers

LISTING = Listing(
    fields={
        "created_at": SortKey(Order.created_at, datetime),
        "number": SortKey(Order.number),
    },
    id_column=Order.id,
)


async def get_order(session: AsyncSession, order_id: uuid.UUID) -> Order:
    """The order with its lines."""
    order = await session.get(Order, order_id, options=[selectinload(Order.lines)])
    if order is None:
        raise NotFound("order", order_id)
    return order


@dataclass(frozen=True)
class OrderRequest:
    """What an order is made of: `lines` give sku and quantity, and optionally
    unit_price, discount_pct and tax_rate (default: the product's, and no discount).
    `customer` is the snapshot an accepted quote carries; `context` the correlation and
    causation its events carry (the current ones when None)."""

    customer_id: uuid.UUID
    lines: Sequence[Mapping[str, Any]]
    quote_id: uuid.UUID | None = None
    currency: str | None = None
    customer: CustomerSnapshot | None = None
    notes: str | None = None
    context: EventContext | None = None


async def create_order(uow: UnitOfWork, request: OrderRequest) -> Order:
    """One order: see `create_orders`."""
    [order] = await create_orders(uow, [request])
    return order


async def create_orders(uow: UnitOfWork, requests: Sequence[OrderRequest]) -> list[Order]:
    """Sales orders `SO-<year>-<seq>` in the default warehouse, each with its credit check
    and reservation, in one transaction and in the order given: the outcome is what
    making them one after another would give, at a fraction of the round trips (every
    read, lock and write is done once for all of them). One request that cannot be
    ordered refuses them all.

    With a snapshot (`customer`) the customer's replica is created or refreshed from it
    when older; without it the customer must be in the replica and not archived. An
    order from a quote (`quote_id`) honours products deactivated after quoting: the
    customer accepted it.

    Each order publishes erp.order.created.v1, then erp.order.on_hold.v1 when the
    customer's exposure plus the order exceeds their credit limit (nothing is reserved),
    else erp.order.confirmed.v1 or erp.order.backordered.v1 as the reservation went.
    """
    async with uow:
        session = uow.session
        company_currency = uow.settings.company.currency
        for request in requests:
            if (request.currency or company_currency) != company_currency:
                raise RuleViolation(
                    f"Orders are made in {company_currency} only.",
                    [{"field": "currency", "message": f"must be {company_currency}"}],
                )
        # Locks in the order every writer takes them: customers, the number counter, levels.
        customers = await _customers(uow, requests)
        warehouse = await default_warehouse(session)
        catalogue = await _catalogue(session, {line["sku"] for r in requests for line in r.lines})
        priced = [
            price_lines(r.lines, catalogue, accept_inactive=r.quote_id is not None)
            for r in requests
        ]
        now = uow.now()
        year = now.astimezone(uow.settings.company.zone).year
        numbers = await next_numbers(session, document_sequences, "SO", year, len(requests))
        # Built outside the session and inserted once decided (`_insert`): version 1 is
        # the order as created, and the credit check or reservation that follows makes
        # the version 2 it is inserted at, with no UPDATE per order.
        orders = [
            Order(
                id=uuid.uuid4(),
                version=1,
                created_at=now,
                updated_at=now,
                number=number,
                customer_id=request.customer_id,
                quote_id=request.quote_id,
                status=PENDING,
                currency=company_currency,
                invoiced_total=Decimal("0.00"),
                warehouse_id=warehouse.id,
                customer_snapshot=customer.snapshot.model_dump(mode="json"),
                notes=request.notes,
                created_by=uow.actor,
                lines=_order_lines(lines),
                **_amounts(totals),
            )
            for request, customer, number, (lines, totals) in zip(
                requests, customers, numbers, priced, strict=True
            )
        ]
        owed = await credit.exposures(
            session,
            {
                request.customer_id
                for request, customer in zip(requests, customers, strict=True)
                if customer.credit_limit is not None
            },
        )
        await stock.hold_levels(
            uow,
            {
                (line.product_id, order.warehouse_id): line.sku
                for order in orders
                for line in order.lines
            },
        )
        for request, customer, order in zip(requests, customers, orders, strict=True):
            with recorded_as(request.context):
                await _check_credit_and_reserve(uow, order, customer.credit_limit, owed)
        await _insert(session, orders)
    return orders


async def _check_credit_and_reserve(
    uow: UnitOfWork, order: Order, limit: Decimal | None, owed: dict[uuid.UUID, Decimal]
) -> None:
    """A new order's events and its outcome: held over the credit limit, else reserved.
    `owed` is each customer's exposure so far; a reserved order adds to it."""
    await uow.record(
        OrderCreated(
            **order_header(order),
            **_totals(order),
            lines=[_line_data(line) for line in order.lines],
        )
    )
    exposure = owed.get(order.customer_id, ZERO)
    if over_credit_limit(exposure, order.total, limit):
        assert limit is not None  # over a limit means there is one
        order.status = ALLOCATION.next(order.status, "hold")
        order.hold_reason = HOLD_CREDIT
        order.version += 1
        await uow.record(
            OrderOnHold(
                **order_header(order),
                previous_status=PENDING,
                currency=order.currency,
                total=order.total,
                credit_limit=limit,
                credit_exposure=exposure + order.total,
            )
        )
        return
    await allocate(uow, order, PENDING)
    owed[order.customer_id] = exposure + order.total


async def release_order(
    uow: UnitOfWork, order_id: uuid.UUID, expected_version: int | None
) -> Order:
    """on_hold → reserved like a new order (confirmed or backordered): finance accepts the
    credit risk, so the limit is not checked again. The released order starts counting
    against the limit, so its customer's row is locked first, as a new order's credit
    check locks it: an order placed meanwhile is checked after the release, counting it."""
    async with uow:
        order = await get_order(uow.session, order_id)
        check_version(order.version, expected_version)
        LIFECYCLE.next(order.status, "release")
        await lock_customers(uow.session, [order.customer_id])
        await allocate(uow, order, ON_HOLD)
        await flush_order(uow.session)
    return order


async def cancel_order(
    uow: UnitOfWork, order_id: uuid.UUID, reason: str | None, expected_version: int | None
) -> Order:
    """Cancel an order before it is fully shipped (a partially shipped order's unshipped
    rest); its reservations go back to stock and on to backordered orders waiting for
    those products. Publishes erp.order.cancelled.v1."""
    async with uow:
        session = uow.session
        order = await get_order(session, order_id)
        check_version(order.version, expected_version)
        previous = order.status
        cancelled = LIFECYCLE.next(previous, "cancel")
        held = [line for line in order.lines if line.quantity_reserved > 0]
        if held:
            # Before the order's row changes: stock levels are locked first (see allocate).
            await stock.release(
                uow,
                order_id=order.id,
                warehouse_id=order.warehouse_id,
                lines=[
                    StockLine(line.product_id, line.sku, line.quantity_reserved) for line in held
                ],
            )
            # Then the order's row with those of the backorders its units go to, in the
            # order receipts lock them (before any line of it is written).
            await lock_for_handover(uow, order, {line.product_id for line in held})
            for line in held:
                line.quantity_reserved = 0
        order.status = cancelled
        order.cancel_reason = reason
        order.cancelled_at = uow.now()
        order.hold_reason = None
        await flush_order(session)
        await uow.record(
            OrderCancelled(**order_header(order), previous_status=previous, reason=reason)
        )
        if held:
            await fill_backorders(uow, order.warehouse_id, {line.product_id for line in held})
    return order


@dataclass(frozen=True)
class OrderFilters:
    statuses: list[str] = field(default_factory=list)
    customer_id: uuid.UUID | None = None
    quote_id: uuid.UUID | None = None
    sku: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    q: str | None = None


async def list_orders(
    session: AsyncSession, filters: OrderFilters, sort: str | None, cursor: str | None, limit: int
) -> Page[Order]:
    query = _filtered(select(Order).options(selectinload(Order.lines)), filters)
    rows = list(await session.scalars(LISTING.apply(query, sort, cursor, limit)))
    return LISTING.page(rows, limit, sort)


def _filtered(query: Select[Any], filters: OrderFilters) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if filters.statuses:
        conditions.append(Order.status.in_(filters.statuses))
    if filters.customer_id:
        conditions.append(Order.customer_id == filters.customer_id)
    if filters.quote_id:
        conditions.append(Order.quote_id == filters.quote_id)
    if filters.sku:
        having_sku = select(OrderLine.order_id).where(OrderLine.sku == filters.sku)
        conditions.append(Order.id.in_(having_sku))
    if filters.created_from:
        conditions.append(Order.created_at >= filters.created_from)
    if filters.created_to:
        conditions.append(Order.created_at < filters.created_to)
    if filters.q:
        conditions.append(number_prefix_match(Order.number, filters.q))
    return query.where(and_(*conditions)) if conditions else query


@dataclass(frozen=True)
class _Customer:
    """The customer as one order sees it: the snapshot the order keeps and the credit
    limit its check uses."""

    snapshot: CustomerSnapshot
    credit_limit: Decimal | None


async def _customers(uow: UnitOfWork, requests: Sequence[OrderRequest]) -> list[_Customer]:
    """The customer of each request, as making the orders one after another would see
    it. Their replica rows are locked in id order (one credit check per customer at a
    time, and no two transactions waiting in a circle). A request's snapshot starts the
    replica of a customer whose own events have not arrived yet, or refreshes an older
    one, for this order and those after it; without a snapshot the customer must be in
    the replica and not archived."""
    now = uow.now()
    # A customer new to the replica is inserted with the snapshot of its first order in
    # the run; a later order's newer snapshot refreshes it from that order on.
    new_rows: dict[uuid.UUID, dict[str, Any]] = {}
    for request in requests:
        if request.customer is not None and request.customer_id not in new_rows:
            new_rows[request.customer_id] = _snapshot_state(request.customer, now)
    replicas = await lock_customers(
        uow.session, {request.customer_id for request in requests}, create=new_rows
    )
    seen: list[_Customer] = []
    for request in requests:
        customer_id, snapshot = request.customer_id, request.customer
        replica = replicas.get(customer_id)
        if snapshot is None:
            # Without state: only archived, or an empty row a later request's snapshot fills.
            if replica is None or replica.archived or not replica.has_state:
                raise RuleViolation(
                    f"There is no active customer {customer_id}.",
                    [{"field": "customer_id", "message": "no such active customer"}],
                )
            seen.append(_Customer(_snapshot_of(replica), replica.credit_limit))
            continue
        if snapshot.id != customer_id:
            raise RuleViolation(
                "The customer snapshot is of another customer.",
                [{"field": "customer.id", "message": "must equal customer_id"}],
            )
        assert replica is not None  # made by lock_customers when new
        if replica.version < snapshot.version:
            for column, value in _snapshot_state(snapshot, now).items():
                setattr(replica, column, value)
        # A replica that only knows the customer was archived has no limit of its own.
        limit = replica.credit_limit if replica.has_state else snapshot.credit_limit
        seen.append(_Customer(snapshot, limit))
    return seen


def _snapshot_state(snapshot: CustomerSnapshot, now: datetime) -> dict[str, Any]:
    """The replica's columns as a quote's customer snapshot states them. CRM accepts a
    quote of an active customer only, so the customer was not archived at the snapshot's
    version: a newer snapshot takes the row out of an older archive (the restore that
    came before the acceptance may arrive after it, and is then stale)."""
    return {
        "archived": False,
        "kind": snapshot.kind,
        "name": snapshot.name,
        "email": snapshot.email,
        "phone": snapshot.phone,
        "billing_address": _address(snapshot.billing_address),
        "shipping_address": _address(snapshot.shipping_address),
        "credit_limit": snapshot.credit_limit,
        "payment_terms_days": snapshot.payment_terms_days,
        "version": snapshot.version,
        "updated_at": now,
    }


def _snapshot_of(replica: CustomerReplica) -> CustomerSnapshot:
    return CustomerSnapshot.model_validate(
        {
            "id": replica.id,
            "version": replica.version,
            "kind": replica.kind,
            "name": replica.name,
            "email": replica.email,
            "phone": replica.phone,
            "billing_address": replica.billing_address,
            "shipping_address": replica.shipping_address,
            "credit_limit": replica.credit_limit,
            "payment_terms_days": replica.payment_terms_days,
        }
    )


def _address(value: Address | None) -> dict[str, Any] | None:
    return value.model_dump(mode="json") if value is not None else None


async def _catalogue(session: AsyncSession, skus: Collection[str]) -> dict[str, CatalogueItem]:
    products = await session.scalars(select(Product).where(Product.sku.in_(skus)))
    return {
        product.sku: CatalogueItem(
            product_id=product.id,
            sku=product.sku,
            name=product.name,
            unit_price=product.unit_price,
            tax_rate=product.tax_rate,
            active=product.active,
        )
        for product in products
    }


def _order_lines(priced: Sequence[PricedLine]) -> list[OrderLine]:
    return [
        OrderLine(
            id=uuid.uuid4(),
            position=position,
            product_id=line.product_id,
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_pct=line.discount_pct,
            tax_rate=line.tax_rate,
            line_net=line.line_net,
            line_tax=line.line_tax,
            quantity_reserved=0,
            quantity_shipped=0,
            quantity_invoiced=0,
            net_invoiced=Decimal("0.00"),
            tax_invoiced=Decimal("0.00"),
        )
        for position, line in enumerate(priced, start=1)
    ]


async def _insert(session: AsyncSession, orders: Sequence[Order]) -> None:
    """The new orders and their lines, in one multi-row INSERT each. Through the tables,
    not the ORM: it would insert every order at version 1 and UPDATE it to 2 one order
    at a time. The objects stay outside the session (the caller only reads them)."""
    await session.execute(insert(table_of(Order)), [column_values(order) for order in orders])
    await session.execute(
        insert(table_of(OrderLine)),
        [{**column_values(line), "order_id": order.id} for order in orders for line in order.lines],
    )


def _amounts(totals: Totals) -> dict[str, Decimal]:
    return {
        "subtotal": totals.subtotal,
        "discount_total": totals.discount_total,
        "tax_total": totals.tax_total,
        "total": totals.total,
    }


def _totals(order: Order) -> dict[str, Any]:
    return {
        "currency": order.currency,
        "subtotal": order.subtotal,
        "discount_total": order.discount_total,
        "tax_total": order.tax_total,
        "total": order.total,
    }


def _line_data(line: OrderLine) -> OrderLineData:
    return OrderLineData(
        sku=line.sku,
        product_id=line.product_id,
        name=line.name,
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount_pct=line.discount_pct,
        tax_rate=line.tax_rate,
        line_net=line.line_net,
        line_tax=line.line_tax,
    )
