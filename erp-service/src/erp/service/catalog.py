"""Use cases of products (published to CRM as `erp.product.*`) and warehouses."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from erp.adapters.catalog import Product, Warehouse, sku_key
from erp.adapters.sales import Order
from erp.adapters.stock import StockLevel
from erp.domain.orders import BACKORDERED, CONFIRMED, ON_HOLD, PARTIALLY_SHIPPED, PENDING
from erp.service import stock, valuation
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.database import lock_for_transaction
from shared_schemas.domain import Conflict, Duplicate, NotFound, RuleViolation, StaleVersion
from shared_schemas.events.erp.products import ProductCreated, ProductUpdated
from shared_schemas.listing import normalise


def check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise StaleVersion(current)


async def get_product(session: AsyncSession, product_id: uuid.UUID) -> Product:
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFound("product", product_id)
    return product


async def create_product(uow: UnitOfWork, values: Mapping[str, Any]) -> Product:
    async with uow:
        _require_company_currency(uow, values.get("currency"))
        sku, key = values["sku"], sku_key(values["sku"])
        existing = (
            await uow.session.execute(select(Product.id, Product.sku).where(Product.sku_key == key))
        ).first()
        if existing is not None:
            # Skus differing only in case would be one product to whoever types or reads
            # them, and an order or quote line would silently find the other one.
            known = "" if existing.sku == sku else f" as {existing.sku!r}"
            raise Duplicate(f"A product with sku {sku!r} exists already{known}.", existing.id)
        product = Product(
            id=uuid.uuid4(),
            sku_key=key,
            **{**values, "currency": values.get("currency") or uow.settings.company.currency},
        )
        product.name_key = normalise(product.name) or ""
        uow.session.add(product)
        await uow.session.flush()
        await uow.record(ProductCreated(**product_state(product)))
    return product


async def update_product(
    uow: UnitOfWork, product_id: uuid.UUID, changes: Mapping[str, Any], expected: int | None
) -> Product:
    async with uow:
        session = uow.session
        product = await get_product(session, product_id)
        check_version(product.version, expected)
        _require_company_currency(uow, changes.get("currency"))
        new_cost = changes.get("cost")
        new_point = changes.get("reorder_point")
        if (new_cost is not None and new_cost != product.cost) or (
            new_point is not None and new_point > product.reorder_point
        ):
            # A cost change revalues the units on hand, a higher reorder point may put them
            # below it: lock them, then the product, and read both again as committed now.
            await valuation.lock_product_levels(uow, product.id)
            # A refresh, not a second load: loading a versioned row over the one in hand
            # that another request changed meanwhile raises (a 409) before the check below.
            # FOR NO KEY UPDATE: it waits for movements reading the cost (FOR SHARE), not
            # for rows merely naming the product, such as the new level of a transfer
            # waiting for a level this change holds.
            await session.refresh(product, with_for_update={"key_share": True})
            check_version(product.version, expected)
        old_cost, old_point = product.cost, product.reorder_point
        before = product_state(product)
        for field, value in changes.items():
            if value is not None:
                setattr(product, field, value)
        product.name_key = normalise(product.name) or ""
        if product_state(product) == before:
            return product
        await session.flush()
        if product.cost != old_cost:
            await valuation.post_revaluation(uow, product, old_cost, product.cost)
        await uow.record(ProductUpdated(**product_state(product)))
        await stock.reorder_point_changed(uow, product, old_point)
    return product


def product_state(product: Product) -> dict[str, Any]:
    """The full state `erp.product.*` events carry."""
    return {
        "version": product.version,
        "product_id": product.id,
        "sku": product.sku,
        "name": product.name,
        "unit_price": product.unit_price,
        "currency": product.currency,
        "tax_rate": product.tax_rate,
        "cost": product.cost,
        "reorder_point": product.reorder_point,
        "active": product.active,
    }


def _require_company_currency(uow: UnitOfWork, currency: str | None) -> None:
    company = uow.settings.company.currency
    if currency is not None and currency != company:
        raise RuleViolation(
            f"Only the company currency ({company}) is supported.",
            [{"field": "currency", "message": f"must be {company}"}],
        )


# Which warehouse is the default is decided by one transaction at a time: the first
# warehouses created at once would otherwise each see none and all claim it. A PostgreSQL
# advisory lock (see service/employees.py for the ERP's other keys).
_DEFAULT_WAREHOUSE = 0x45_52_50_03


async def get_warehouse(session: AsyncSession, warehouse_id: uuid.UUID) -> Warehouse:
    warehouse = await session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise NotFound("warehouse", warehouse_id)
    return warehouse


async def default_warehouse(session: AsyncSession) -> Warehouse:
    """The warehouse orders reserve in; a 409 until one exists. Its row is share-locked
    until the transaction ends: it stays the default (and so active) while orders are
    placed in it, and a deactivation that follows a switch of the default sees them."""
    while True:
        found = await session.scalar(select(Warehouse.id).where(Warehouse.is_default.is_(True)))
        if found is None:
            raise Conflict("There is no default warehouse yet; create one first.")
        warehouse = await session.scalar(
            select(Warehouse)
            .where(Warehouse.id == found, Warehouse.is_default.is_(True))
            .with_for_update(read=True)
            .execution_options(populate_existing=True)
        )
        if warehouse is not None:
            return warehouse
        # Another warehouse became the default between the two reads: look again.


async def create_warehouse(uow: UnitOfWork, values: Mapping[str, Any]) -> Warehouse:
    """A warehouse; the first one, or one asked to be, becomes the default."""
    async with uow:
        session = uow.session
        existing = await session.scalar(
            select(Warehouse.id).where(Warehouse.code == values["code"])
        )
        if existing is not None:
            raise Duplicate(f"A warehouse with code {values['code']!r} exists already.", existing)
        await lock_for_transaction(session, _DEFAULT_WAREHOUSE)
        has_default = await session.scalar(select(Warehouse.id).where(Warehouse.is_default))
        wants_default = bool(values.get("is_default")) or has_default is None
        if wants_default and has_default is not None:
            await _clear_default(session)
        warehouse = Warehouse(id=uuid.uuid4(), **{**values, "is_default": wants_default})
        session.add(warehouse)
        await session.flush()
    return warehouse


async def update_warehouse(
    uow: UnitOfWork, warehouse_id: uuid.UUID, changes: Mapping[str, Any], expected: int | None
) -> Warehouse:
    async with uow:
        if changes.get("active") is False:
            warehouse = await _lock_for_deactivation(uow.session, warehouse_id)
        else:
            warehouse = await get_warehouse(uow.session, warehouse_id)
        check_version(warehouse.version, expected)
        if changes.get("active") is False and warehouse.active:
            await _check_deactivation(uow.session, warehouse)
        for field, value in changes.items():
            if value is not None or field == "address":
                setattr(warehouse, field, value)
        await uow.session.flush()
    return warehouse


ORDERS_WAITING = (PENDING, ON_HOLD, BACKORDERED, CONFIRMED, PARTIALLY_SHIPPED)
"""Orders that still reserve, wait for or ship stock in their warehouse."""


async def _lock_for_deactivation(session: AsyncSession, warehouse_id: uuid.UUID) -> Warehouse:
    """The warehouse read again under the locks that keep what a deactivation checks true
    until it commits: its row (waiting for a switch of the default and for orders being
    placed in it, see `default_warehouse`), then its stock levels in key order, the order
    every stock writer takes them in (waiting for movements under way there)."""
    warehouse = await session.get(
        Warehouse, warehouse_id, with_for_update={"key_share": True}, populate_existing=True
    )
    if warehouse is None:
        raise NotFound("warehouse", warehouse_id)
    await session.execute(
        select(StockLevel.product_id)
        .where(StockLevel.warehouse_id == warehouse_id)
        .order_by(StockLevel.product_id, StockLevel.warehouse_id)
        .with_for_update()
    )
    return warehouse


async def _check_deactivation(session: AsyncSession, warehouse: Warehouse) -> None:
    """A 409 unless the warehouse holds no units and no open order waits on it: stock in
    an inactive warehouse could never move again, nor its orders' backorders fill."""
    if warehouse.is_default:
        raise Conflict("The default warehouse cannot be deactivated; make another default.")
    on_hand, reserved = (
        await session.execute(
            select(
                func.coalesce(func.sum(StockLevel.on_hand), 0),
                func.coalesce(func.sum(StockLevel.reserved), 0),
            ).where(StockLevel.warehouse_id == warehouse.id)
        )
    ).one()
    open_orders = await session.scalar(
        select(func.count())
        .select_from(Order)
        .where(Order.warehouse_id == warehouse.id, Order.status.in_(ORDERS_WAITING))
    )
    reasons = []
    if on_hand:
        reasons.append(f"{_count(on_hand, 'unit')} on hand ({reserved} of them reserved)")
    if open_orders:
        reasons.append(f"{_count(open_orders, 'open order')} waiting on it")
    if reasons:
        raise Conflict(
            f"Warehouse {warehouse.code} cannot be deactivated while it holds stock or open "
            f"orders wait on it: {' and '.join(reasons)}. Transfer the units elsewhere and "
            "ship or cancel the orders first.",
            units_on_hand=int(on_hand),
            units_reserved=int(reserved),
            open_orders=int(open_orders or 0),
        )


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"


async def make_default(uow: UnitOfWork, warehouse_id: uuid.UUID) -> Warehouse:
    async with uow:
        await lock_for_transaction(uow.session, _DEFAULT_WAREHOUSE)
        warehouse = await get_warehouse(uow.session, warehouse_id)
        if not warehouse.active:
            raise Conflict("An inactive warehouse cannot be the default.")
        if not warehouse.is_default:
            await _clear_default(uow.session)
            warehouse.is_default = True
            await uow.session.flush()
    return warehouse


async def _clear_default(session: AsyncSession) -> None:
    # Bumps the former default's version: it changed.
    await session.execute(
        update(Warehouse)
        .where(Warehouse.is_default.is_(True))
        .values(is_default=False, version=Warehouse.version + 1)
        .execution_options(synchronize_session="fetch")
    )
    await session.flush()
