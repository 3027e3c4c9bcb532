"""Use cases of products (published to CRM as `erp.product.*`) and warehouses."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from erp.adapters.catalog import Product, Warehouse
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
        existing = await uow.session.scalar(select(Product.id).where(Product.sku == values["sku"]))
        if existing is not None:
            raise Duplicate(f"A product with sku {values['sku']!r} exists already.", existing)
        product = Product(
            id=uuid.uuid4(),
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
            product = (
                await session.get(Product, product_id, with_for_update=True, populate_existing=True)
                or product
            )
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
    """The warehouse orders reserve in; a 409 until one exists."""
    warehouse = await session.scalar(select(Warehouse).where(Warehouse.is_default.is_(True)))
    if warehouse is None:
        raise Conflict("There is no default warehouse yet; create one first.")
    return warehouse


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
        warehouse = await get_warehouse(uow.session, warehouse_id)
        check_version(warehouse.version, expected)
        if changes.get("active") is False and warehouse.is_default:
            raise Conflict("The default warehouse cannot be deactivated; make another default.")
        for field, value in changes.items():
            if value is not None or field == "address":
                setattr(warehouse, field, value)
        await uow.session.flush()
    return warehouse


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
