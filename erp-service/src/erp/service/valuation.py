"""Stock in the ledger at standard cost: receipts, adjustments, cost changes and shipments
post entries, so the inventory account always equals the units on hand times their
product's cost.

A product's cost is read under a share lock after the stock levels are locked: a cost
change (which locks the product's levels, then the product) and a movement therefore
never value the same units at two costs."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from erp.adapters.catalog import Product
from erp.adapters.stock import StockLevel
from erp.domain.ledger import (
    COGS,
    INVENTORY,
    INVENTORY_ADJUSTMENT,
    INVENTORY_REVALUATION,
    PAYABLES,
    Posting,
)
from erp.service.ledger import post_entry
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.money import cents

STOCK_MOVEMENT = "stock_movement"
COST_CHANGE = "cost_change"
SHIPMENT = "shipment"


async def costs(uow: UnitOfWork, product_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    """The standard costs of the products, share-locked until the transaction ends."""
    rows = await uow.session.execute(
        select(Product.id, Product.cost)
        .where(Product.id.in_(sorted(set(product_ids))))
        .order_by(Product.id)
        .with_for_update(read=True)
    )
    return {product_id: cost for product_id, cost in rows}


async def post_receipt(
    uow: UnitOfWork, movement_id: uuid.UUID, product_id: uuid.UUID, sku: str, quantity: int
) -> None:
    """Goods received: Dr inventory / Cr payables."""
    value = cents(quantity * (await costs(uow, [product_id]))[product_id])
    if value:
        await post_entry(
            uow,
            [Posting.dr(INVENTORY, value, sku), Posting.cr(PAYABLES, value, sku)],
            source_type=STOCK_MOVEMENT,
            source_id=movement_id,
            memo=f"Receipt of {quantity} {sku}",
        )


async def post_adjustment(
    uow: UnitOfWork, movement_id: uuid.UUID, product_id: uuid.UUID, sku: str, quantity: int
) -> None:
    """Units found (Dr inventory / Cr inventory adjustment) or lost (the other way)."""
    value = cents(abs(quantity) * (await costs(uow, [product_id]))[product_id])
    if not value:
        return
    gained, lost = (
        (INVENTORY, INVENTORY_ADJUSTMENT)
        if quantity > 0
        else (
            INVENTORY_ADJUSTMENT,
            INVENTORY,
        )
    )
    await post_entry(
        uow,
        [Posting.dr(gained, value, sku), Posting.cr(lost, value, sku)],
        source_type=STOCK_MOVEMENT,
        source_id=movement_id,
        memo=f"Adjustment of {quantity:+d} {sku}",
    )


async def post_shipment_cost(
    uow: UnitOfWork,
    shipment_id: uuid.UUID,
    number: str,
    shipped: Mapping[uuid.UUID, int],
    shipped_on: date,
) -> None:
    """Goods shipped (`shipped`: product id → units): Dr cost of goods sold / Cr
    inventory, in the shipment's own transaction."""
    unit_costs = await costs(uow, list(shipped))
    value = cents(sum((units * unit_costs[p] for p, units in shipped.items()), Decimal(0)))
    if value:
        await post_entry(
            uow,
            [Posting.dr(COGS, value), Posting.cr(INVENTORY, value)],
            source_type=SHIPMENT,
            source_id=shipment_id,
            reference=number,
            memo=f"Cost of shipment {number}",
            entry_date=shipped_on,
        )


async def lock_product_levels(uow: UnitOfWork, product_id: uuid.UUID) -> None:
    """Lock every level of the product (in key order), before the product row: the order
    every stock writer takes them in."""
    await uow.session.execute(
        select(StockLevel.warehouse_id)
        .where(StockLevel.product_id == product_id)
        .order_by(StockLevel.product_id, StockLevel.warehouse_id)
        .with_for_update()
    )


async def post_revaluation(
    uow: UnitOfWork, product: Product, old_cost: Decimal, new_cost: Decimal
) -> None:
    """The product's units on hand revalued from `old_cost` to `new_cost` (its levels are
    locked): Dr inventory / Cr revaluation when the cost rose, the other way when it fell."""
    units = await uow.session.scalar(
        select(func.coalesce(func.sum(StockLevel.on_hand), 0)).where(
            StockLevel.product_id == product.id
        )
    )
    value = cents(int(units or 0) * (new_cost - old_cost))
    if not value:
        return
    up, down = (
        (INVENTORY, INVENTORY_REVALUATION) if value > 0 else (INVENTORY_REVALUATION, INVENTORY)
    )
    await post_entry(
        uow,
        [Posting.dr(up, abs(value), product.sku), Posting.cr(down, abs(value), product.sku)],
        # The product is the source document: a product changes cost many times, so
        # unlike other sources it has many entries (the one-entry-per-source index spares
        # cost changes).
        source_type=COST_CHANGE,
        source_id=product.id,
        reference=product.sku,
        memo=f"{product.sku} cost {old_cost:.2f} → {new_cost:.2f} on {units} units",
    )
