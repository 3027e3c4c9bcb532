"""Stock use cases: the movements users post (receipt, adjustment, transfer) and the ones
orders make (reserve, release, ship). Every change is one ledger row plus its level,
written under the level's row lock."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, func, literal_column, select, union_all
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from erp.adapters.catalog import Product, Warehouse
from erp.adapters.orm import utcnow
from erp.adapters.stock import StockLevel, StockMovement
from erp.domain.stock import (
    ADJUSTMENT,
    RECEIPT,
    RELEASE,
    RESERVATION,
    SHIPMENT,
    TRANSFER,
    TRANSFER_IN,
    TRANSFER_OUT,
    Level,
    MovementRequest,
    StockLine,
    check_line_quantities,
    ran_low,
    require_order_reserved,
)
from erp.service import valuation
from erp.service.backorders import fill_backorders
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.domain import RuleViolation
from shared_schemas.events.erp.stock import StockAdjusted, StockLow

__all__ = [
    "Drift",
    "LedgerCheck",
    "Posted",
    "StockLine",
    "check_ledger",
    "hold_levels",
    "post_movement",
    "release",
    "reorder_point_changed",
    "reserve",
    "ship",
]

LevelKey = tuple[uuid.UUID, uuid.UUID]
"""(product_id, warehouse_id): the order in which level rows are locked, everywhere."""

_HELD = "erp_held_stock_levels"


@dataclass(frozen=True)
class Posted:
    """What a user movement wrote: its ledger rows and the levels after it."""

    movements: list[StockMovement]
    levels: list[StockLevel]


@dataclass
class _Locked:
    """A level row this transaction holds the lock of, its product's reorder point, and
    the level as the transaction found it (`start`), against which running low is judged
    (see `_move`)."""

    row: StockLevel
    reorder_point: int
    start: Level
    announced_low: bool = False


async def post_movement(uow: UnitOfWork, request: MovementRequest) -> Posted:
    """A receipt, adjustment or transfer; 409 naming the shortfall when stock would not
    cover it, and then nothing is written."""
    request.check()
    async with uow:
        session = uow.session
        product = await _product_by_sku(session, request.sku)
        transfer = request.kind == TRANSFER
        warehouses = {request.source_id: "from_warehouse_id" if transfer else "warehouse_id"}
        if transfer:
            assert request.to_warehouse_id is not None
            warehouses[request.to_warehouse_id] = "to_warehouse_id"
        # In id order, as every lock here is taken: crossing transfers racing two
        # deactivations cannot wait on each other in a circle.
        for warehouse_id in sorted(warehouses):
            await _active_warehouse(session, warehouse_id, warehouses[warehouse_id])
        keys = [(product.id, warehouse_id) for warehouse_id in warehouses]
        levels = await _lock_levels(session, {key: product.sku for key in keys})
        quantity, reason = request.quantity, (request.reason or "").strip() or None
        if request.kind == RECEIPT:
            movements = [await _move(uow, levels[keys[0]], RECEIPT, quantity, 0, reason=reason)]
            await valuation.post_receipt(uow, movements[0].id, product.id, product.sku, quantity)
        elif request.kind == ADJUSTMENT:
            movements = [await _adjust(uow, levels[keys[0]], quantity, reason or "")]
            await valuation.post_adjustment(uow, movements[0].id, product.id, product.sku, quantity)
        else:
            transfer_id = uuid.uuid4()
            movements = [
                await _move(
                    uow, levels[key], kind, delta, 0, reason=reason, transfer_id=transfer_id
                )
                for key, kind, delta in (
                    (keys[0], TRANSFER_OUT, -quantity),
                    (keys[1], TRANSFER_IN, quantity),
                )
            ]
        gained = keys[-1][1] if transfer or quantity > 0 else None
        if gained is not None:
            # Stock arrived: orders waiting for it get it first, in this transaction. What
            # they reserve updates `levels` too: locking a level reloads its object.
            await fill_backorders(uow, gained, [product.id])
        await session.flush()
    return Posted(movements, [levels[key].row for key in keys])


async def _adjust(uow: UnitOfWork, level: _Locked, quantity: int, reason: str) -> StockMovement:
    movement = await _move(uow, level, ADJUSTMENT, quantity, 0, reason=reason)
    await uow.record(
        StockAdjusted(
            **_level_state(level.row), movement_id=movement.id, quantity=quantity, reason=reason
        )
    )
    return movement


async def reserve(
    uow: UnitOfWork,
    *,
    order_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    lines: Sequence[StockLine],
) -> list[int]:
    """Reserve up to each line's quantity, as much as is available; the units reserved per
    line, in order. Inside the caller's open unit of work."""
    check_line_quantities(list(lines))
    wanted = [line for line in lines if line.quantity > 0]
    levels = await _lock_levels(
        uow.session, {(line.product_id, warehouse_id): line.sku for line in wanted}
    )
    reserved: list[int] = []
    for line in lines:
        units = 0
        if line.quantity > 0:
            level = levels[(line.product_id, warehouse_id)]
            units = _value(level.row).reservable(line.quantity)
            if units:
                await _move(uow, level, RESERVATION, 0, units, order_id=order_id)
        reserved.append(units)
    return reserved


async def release(
    uow: UnitOfWork,
    *,
    order_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    lines: Sequence[StockLine],
) -> None:
    """Give back units the order reserved; 409 if it asks for more than it holds."""
    await _consume(uow, RELEASE, order_id, None, warehouse_id, lines)


async def ship(
    uow: UnitOfWork,
    *,
    order_id: uuid.UUID,
    shipment_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    lines: Sequence[StockLine],
) -> None:
    """Ship units the order reserved: on_hand and reserved both drop; 409 if not reserved."""
    await _consume(uow, SHIPMENT, order_id, shipment_id, warehouse_id, lines)


async def _consume(
    uow: UnitOfWork,
    kind: str,
    order_id: uuid.UUID,
    shipment_id: uuid.UUID | None,
    warehouse_id: uuid.UUID,
    lines: Sequence[StockLine],
) -> None:
    check_line_quantities(list(lines))
    wanted = [line for line in lines if line.quantity > 0]
    levels = await _lock_levels(
        uow.session, {(line.product_id, warehouse_id): line.sku for line in wanted}
    )
    # Read under the level locks: every movement of these levels is committed or ours.
    held = await _reserved_by_order(
        uow.session, order_id, warehouse_id, {line.product_id for line in wanted}
    )
    for line in wanted:
        level = levels[(line.product_id, warehouse_id)]
        require_order_reserved(_value(level.row), held.get(line.product_id, 0), line.quantity)
        held[line.product_id] = held.get(line.product_id, 0) - line.quantity
        shipped = -line.quantity if kind == SHIPMENT else 0
        await _move(
            uow, level, kind, shipped, -line.quantity, order_id=order_id, shipment_id=shipment_id
        )


async def _move(
    uow: UnitOfWork,
    level: _Locked,
    kind: str,
    on_hand_delta: int,
    reserved_delta: int,
    **cause: Any,
) -> StockMovement:
    """Apply one movement to a locked level and write its ledger row; `erp.stock.low.v1`
    when it takes available below the product's reorder point.

    Low is judged against the level as the transaction found it, once per transaction:
    what others see is the level before and after it. A receipt that lifts stock above the
    point and the backorders it fills that take it below again is no news when it was
    below before, and several orders of one run taking it down are one crossing."""
    row = level.row
    before = _value(row)
    after = before.moved(on_hand_delta, reserved_delta)
    row.on_hand, row.reserved = after.on_hand, after.reserved
    row.version += 1
    movement = StockMovement(
        id=uuid.uuid4(),
        kind=kind,
        product_id=row.product_id,
        sku=row.sku,
        warehouse_id=row.warehouse_id,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        actor=uow.actor,
        created_at=uow.now(),
        **cause,
    )
    uow.session.add(movement)
    if not level.announced_low and ran_low(
        level.start, after, level.reorder_point, level.reorder_point
    ):
        level.announced_low = True
        await uow.record(StockLow(**_level_state(row), reorder_point=level.reorder_point))
    return movement


async def reorder_point_changed(uow: UnitOfWork, product: Product, before: int) -> None:
    """`erp.stock.low.v1` for each level of `product` its new reorder point puts below it
    (the point changed from `before`). The caller locked the product's levels before
    changing the product, as a cost change does: no movement runs in between."""
    if product.reorder_point <= before:
        return
    levels = await uow.session.scalars(
        select(StockLevel)
        # A level at version 0 never moved (an order held it and reserved nothing): no
        # stock was ever there, as where there is no level at all.
        .where(StockLevel.product_id == product.id, StockLevel.version > 0)
        .order_by(StockLevel.warehouse_id)
        .execution_options(populate_existing=True)
    )
    for row in levels:
        level = _value(row)
        if ran_low(level, level, before, product.reorder_point):
            await uow.record(StockLow(**_level_state(row), reorder_point=product.reorder_point))


async def hold_levels(uow: UnitOfWork, wanted: Mapping[LevelKey, str]) -> None:
    """Lock the levels of `wanted` (key → sku) now, in key order, for the movements this
    transaction makes later: work for many orders at once locks all it will touch first,
    then each order's reservation finds its levels held and reads nothing again."""
    await _lock_levels(uow.session, wanted)


async def _lock_levels(
    session: AsyncSession, wanted: Mapping[LevelKey, str]
) -> dict[LevelKey, _Locked]:
    """The level rows of `wanted` (key → sku), locked in key order so two transactions
    never wait for each other in a circle. A missing row is created first: inserting it
    makes a concurrent creator wait for our commit, so no change goes unseen.

    A level this transaction locked before is not read again: until the transaction ends
    only this session can change it, so the object in hand is its state."""
    held = _held(session)
    levels: dict[LevelKey, _Locked] = {}
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for key in sorted(wanted):
        if key in held:
            levels[key] = held[key]
            continue
        level = await _locked(session, key)
        if level is None:
            product_id, warehouse_id = key
            await session.execute(
                insert(StockLevel)
                .values(
                    product_id=product_id,
                    warehouse_id=warehouse_id,
                    sku=wanted[key],
                    on_hand=0,
                    reserved=0,
                    version=0,
                    updated_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["product_id", "warehouse_id"])
            )
            level = await _locked(session, key)
            assert level is not None
        levels[key] = held[key] = level
    return levels


def _held(session: AsyncSession) -> dict[LevelKey, _Locked]:
    """The levels the session's current transaction holds locked."""
    transaction = session.get_transaction()
    mark = session.info.get(_HELD)
    if mark is None or mark[0] is not transaction:
        mark = (transaction, {})
        session.info[_HELD] = mark
    held: dict[LevelKey, _Locked] = mark[1]
    return held


async def _locked(session: AsyncSession, key: LevelKey) -> _Locked | None:
    product_id, warehouse_id = key
    query = (
        select(StockLevel, Product.reorder_point)
        .join(Product, Product.id == StockLevel.product_id)
        .where(StockLevel.product_id == product_id, StockLevel.warehouse_id == warehouse_id)
        .with_for_update(of=StockLevel)
        # The row as committed now, not as this session may have cached it before the lock.
        .execution_options(populate_existing=True)
    )
    found = (await session.execute(query)).first()
    return _Locked(found[0], found[1], _value(found[0])) if found is not None else None


async def _reserved_by_order(
    session: AsyncSession,
    order_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    product_ids: Collection[uuid.UUID],
) -> dict[uuid.UUID, int]:
    if not product_ids:
        return {}
    rows = await session.execute(
        select(StockMovement.product_id, func.sum(StockMovement.reserved_delta))
        .where(
            StockMovement.order_id == order_id,
            StockMovement.warehouse_id == warehouse_id,
            StockMovement.product_id.in_(product_ids),
        )
        .group_by(StockMovement.product_id)
    )
    return {product_id: int(total or 0) for product_id, total in rows}


async def _product_by_sku(session: AsyncSession, sku: str) -> Product:
    product = await session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise RuleViolation(
            f"There is no product with sku {sku!r}.", [{"field": "sku", "message": "unknown sku"}]
        )
    return product


async def _active_warehouse(
    session: AsyncSession, warehouse_id: uuid.UUID, field_name: str
) -> Warehouse:
    # Share-locked until the movement commits: a deactivation (which locks it for update
    # and then counts the stock) either waits for this movement or is seen here.
    warehouse = await session.get(
        Warehouse, warehouse_id, with_for_update={"read": True}, populate_existing=True
    )
    if warehouse is None:
        raise RuleViolation(
            f"There is no warehouse {warehouse_id}.",
            [{"field": field_name, "message": "unknown warehouse"}],
        )
    if not warehouse.active:
        raise RuleViolation(
            f"Warehouse {warehouse.code} is inactive; stock cannot move there.",
            [{"field": field_name, "message": "inactive warehouse"}],
        )
    return warehouse


def _value(level: StockLevel) -> Level:
    return Level(level.sku, level.warehouse_id, level.on_hand, level.reserved)


def _level_state(level: StockLevel) -> dict[str, Any]:
    """A level as `erp.stock.*` events carry it."""
    return {
        "version": level.version,
        "product_id": level.product_id,
        "sku": level.sku,
        "warehouse_id": level.warehouse_id,
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "available": level.on_hand - level.reserved,
    }


@dataclass(frozen=True)
class Drift:
    """A level whose recorded counts differ from the sum of its movements."""

    product_id: uuid.UUID
    warehouse_id: uuid.UUID
    sku: str | None
    on_hand: int
    reserved: int
    on_hand_from_movements: int
    reserved_from_movements: int


@dataclass(frozen=True)
class LedgerCheck:
    levels_checked: int
    movements_checked: int
    drift: list[Drift] = field(default_factory=list)


async def check_ledger(session: AsyncSession) -> LedgerCheck:
    """Recompute every level from the ledger and list where they disagree (nothing when
    the books are right). The comparison is one statement, so one snapshot on PostgreSQL
    too; a level row missing for movements shows as a level of zero."""
    zero = literal_column("0", Integer)
    levels = select(
        StockLevel.product_id,
        StockLevel.warehouse_id,
        StockLevel.on_hand.label("on_hand"),
        StockLevel.reserved.label("reserved"),
        zero.label("moved_on_hand"),
        zero.label("moved_reserved"),
    )
    movements = select(
        StockMovement.product_id,
        StockMovement.warehouse_id,
        zero,
        zero,
        StockMovement.on_hand_delta,
        StockMovement.reserved_delta,
    )
    both = union_all(levels, movements).subquery("both_sides")
    totals = [
        func.sum(both.c[name]).label(name)
        for name in ("on_hand", "reserved", "moved_on_hand", "moved_reserved")
    ]
    sums = (
        select(both.c.product_id, both.c.warehouse_id, *totals)
        .group_by(both.c.product_id, both.c.warehouse_id)
        .having((totals[0] != totals[2]) | (totals[1] != totals[3]))
        .subquery("sums")
    )
    rows = await session.execute(
        select(sums, Product.sku)
        .outerjoin(Product, Product.id == sums.c.product_id)
        .order_by(Product.sku, sums.c.warehouse_id)
    )
    drift = [
        Drift(
            product_id=row.product_id,
            warehouse_id=row.warehouse_id,
            sku=row.sku,
            on_hand=int(row.on_hand),
            reserved=int(row.reserved),
            on_hand_from_movements=int(row.moved_on_hand),
            reserved_from_movements=int(row.moved_reserved),
        )
        for row in rows
    ]
    counted = await session.execute(
        select(
            select(func.count()).select_from(StockLevel).scalar_subquery(),
            select(func.count()).select_from(StockMovement).scalar_subquery(),
        )
    )
    levels_checked, movements_checked = counted.one()
    return LedgerCheck(int(levels_checked), int(movements_checked), drift)
