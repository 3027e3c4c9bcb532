"""`/stock`: levels per product and warehouse, the movement ledger, the movements users
post, and the check that every level still adds up to its movements."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field, JsonValue
from sqlalchemy import ColumnElement, Select, select

from erp.adapters.catalog import Product
from erp.adapters.stock import StockLevel, StockMovement
from erp.api.deps import UnitOfWorkDep
from erp.domain.stock import MAX_QUANTITY, MovementRequest
from erp.service import stock
from shared_schemas.http.json_types import JsonInt
from shared_schemas.http.pagination import (
    CreatedFrom,
    CreatedTo,
    Cursor,
    Limit,
    Page,
    decode_cursor,
    invalid_cursor,
)
from shared_schemas.http.pagination import page_of as page_by_key
from shared_schemas.identity import Access, Authorize
from shared_schemas.listing import Listing, SortKey

router = APIRouter(prefix="/stock", tags=["stock"])

ReadAccess = Annotated[Access, Depends(Authorize("erp", "stock", "read"))]
MoveAccess = Annotated[Access, Depends(Authorize("erp", "stock", "create"))]
# Auditing the ledger is for those who move stock (warehouse, admin); sales only read it.
AuditAccess = MoveAccess

UserKind = Literal["receipt", "adjustment", "transfer"]
LedgerKind = Literal[
    "receipt", "adjustment", "transfer_out", "transfer_in", "reservation", "release", "shipment"
]
Sku = Annotated[str, Field(min_length=1, max_length=64)]
FilterSkus = Annotated[list[str] | None, Query(max_length=50)]
FilterIds = Annotated[list[uuid.UUID] | None, Query(max_length=50)]

# Sorted by sku, then warehouse: (sku, warehouse_id) is unique since a sku names one product.
LEVELS = Listing(
    fields={"sku": SortKey(StockLevel.sku)}, id_column=StockLevel.warehouse_id, default="sku"
)
LEDGER_ORDER = "-seq"

WAREHOUSE_EXAMPLE = "7a0e6c2f-0e4b-4a36-9d47-5b1f8c9e2d47"
PRODUCT_EXAMPLE = "5b1f8c9e-2d47-4a36-9a0e-6c2f0e4b7a10"
LEVEL_EXAMPLE: dict[str, JsonValue] = {
    "sku": "WIDGET-1",
    "product_id": PRODUCT_EXAMPLE,
    "warehouse_id": WAREHOUSE_EXAMPLE,
    "on_hand": 40,
    "reserved": 12,
    "available": 28,
    "version": 7,
    "updated_at": "2026-11-20T10:00:00Z",
}
MOVEMENT_EXAMPLE: dict[str, JsonValue] = {
    "seq": 1042,
    "id": "0e4b7a10-5b1f-4c9e-8d47-4a369a0e6c2f",
    "kind": "receipt",
    "sku": "WIDGET-1",
    "product_id": PRODUCT_EXAMPLE,
    "warehouse_id": WAREHOUSE_EXAMPLE,
    "on_hand_delta": 40,
    "reserved_delta": 0,
    "reason": None,
    "transfer_id": None,
    "order_id": None,
    "shipment_id": None,
    "actor": "user-warehouse",
    "created_at": "2026-11-20T10:00:00Z",
}


class MovementCreate(BaseModel):
    """A receipt (quantity > 0), an adjustment (signed quantity, reason required) or a
    transfer (from_warehouse_id, to_warehouse_id, quantity > 0)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "receipt",
                    "sku": "WIDGET-1",
                    "warehouse_id": WAREHOUSE_EXAMPLE,
                    "quantity": 40,
                },
                {
                    "kind": "adjustment",
                    "sku": "WIDGET-1",
                    "warehouse_id": WAREHOUSE_EXAMPLE,
                    "quantity": -2,
                    "reason": "Damaged in handling",
                },
                {
                    "kind": "transfer",
                    "sku": "WIDGET-1",
                    "from_warehouse_id": WAREHOUSE_EXAMPLE,
                    "to_warehouse_id": "2d475b1f-8c9e-4a36-9a0e-6c2f0e4b7a10",
                    "quantity": 5,
                },
            ]
        },
    )

    kind: UserKind
    sku: Sku
    warehouse_id: uuid.UUID | None = Field(
        default=None, description="Receipts and adjustments: the warehouse."
    )
    from_warehouse_id: uuid.UUID | None = Field(default=None, description="Transfers: source.")
    to_warehouse_id: uuid.UUID | None = Field(default=None, description="Transfers: target.")
    quantity: JsonInt = Field(
        ge=-MAX_QUANTITY, le=MAX_QUANTITY, description="Units; negative only for adjustments."
    )
    reason: str | None = Field(
        default=None, max_length=500, description="Required for adjustments."
    )


class MovementOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [MOVEMENT_EXAMPLE]}
    )

    seq: int = Field(description="Position in the ledger; newer movements have larger ones.")
    id: uuid.UUID
    kind: LedgerKind
    sku: str
    product_id: uuid.UUID
    warehouse_id: uuid.UUID
    on_hand_delta: int
    reserved_delta: int
    reason: str | None
    transfer_id: uuid.UUID | None = Field(description="Shared by both halves of a transfer.")
    order_id: uuid.UUID | None
    shipment_id: uuid.UUID | None
    actor: str
    created_at: datetime


class LevelOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [LEVEL_EXAMPLE]})

    sku: str
    product_id: uuid.UUID
    warehouse_id: uuid.UUID
    on_hand: int = Field(description="Units physically in the warehouse.")
    reserved: int = Field(description="Units promised to orders.")
    available: int = Field(description="on_hand - reserved.")
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, level: StockLevel) -> LevelOut:
        return cls(
            sku=level.sku,
            product_id=level.product_id,
            warehouse_id=level.warehouse_id,
            on_hand=level.on_hand,
            reserved=level.reserved,
            available=level.on_hand - level.reserved,
            version=level.version,
            updated_at=level.updated_at,
        )


class MovementPosted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"movements": [MOVEMENT_EXAMPLE], "levels": [LEVEL_EXAMPLE]}]
        }
    )

    movements: list[MovementOut]
    levels: list[LevelOut] = Field(description="The levels the movement changed, after it.")


class DriftOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: uuid.UUID
    warehouse_id: uuid.UUID
    sku: str | None
    on_hand: int = Field(description="As the level records it.")
    reserved: int
    on_hand_from_movements: int = Field(description="The sum of its movements.")
    reserved_from_movements: int


class LedgerCheckOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"consistent": True, "levels_checked": 120, "movements_checked": 4810, "drift": []}
            ]
        }
    )

    consistent: bool
    levels_checked: int
    movements_checked: int
    drift: list[DriftOut]


@router.post(
    "/movements",
    status_code=status.HTTP_201_CREATED,
    summary="Post a receipt, an adjustment or a transfer",
    responses={
        409: {"description": "Stock would go below zero (`needed`, `shortfall`, `available`)"},
        422: {"description": "Bad input, an unknown sku or warehouse, an inactive warehouse"},
    },
)
async def post_movement(
    body: MovementCreate, _access: MoveAccess, uow: UnitOfWorkDep
) -> MovementPosted:
    posted = await stock.post_movement(uow, MovementRequest(**body.model_dump()))
    return MovementPosted(
        movements=[MovementOut.model_validate(m) for m in posted.movements],
        levels=[LevelOut.of(level) for level in posted.levels],
    )


@router.get("", summary="Stock levels per product and warehouse")
async def list_levels(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[str | None, Query(description="`sku` (default) or `-sku`.")] = None,
    sku: FilterSkus = None,
    warehouse_id: FilterIds = None,
    product_id: FilterIds = None,
    below_reorder_point: Annotated[
        bool | None,
        Query(
            description="`true`: only levels whose available units are below their "
            "product's reorder point (what `erp.stock.low.v1` announces); `false`: the others."
        ),
    ] = None,
) -> Page[LevelOut]:
    conditions: list[ColumnElement[bool]] = []
    if sku:
        conditions.append(StockLevel.sku.in_(sku))
    if warehouse_id:
        conditions.append(StockLevel.warehouse_id.in_(warehouse_id))
    if product_id:
        conditions.append(StockLevel.product_id.in_(product_id))
    query = select(StockLevel).where(*conditions)
    if below_reorder_point is not None:
        below = StockLevel.on_hand - StockLevel.reserved < Product.reorder_point
        query = query.join(Product, Product.id == StockLevel.product_id).where(
            below if below_reorder_point else ~below
        )
    async with uow:
        rows = list(await uow.session.scalars(LEVELS.apply(query, sort, cursor, limit)))
    page = LEVELS.page(rows, limit, sort, key_of=lambda level: (level.sku, level.warehouse_id))
    return Page[LevelOut](
        items=[LevelOut.of(level) for level in page.items], next_cursor=page.next_cursor
    )


@router.get("/movements", summary="The movement ledger, newest first")
async def list_movements(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sku: FilterSkus = None,
    warehouse_id: FilterIds = None,
    product_id: FilterIds = None,
    order_id: uuid.UUID | None = None,
    transfer_id: uuid.UUID | None = None,
    kind: Annotated[list[LedgerKind] | None, Query()] = None,
    # Aware only: a time without a zone names no instant (422, not a guess).
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
) -> Page[MovementOut]:
    conditions: list[ColumnElement[bool]] = []
    if sku:
        # Through the products' unique sku index to the ledger's (product, warehouse) one.
        conditions.append(
            StockMovement.product_id.in_(select(Product.id).where(Product.sku.in_(sku)))
        )
    if warehouse_id:
        conditions.append(StockMovement.warehouse_id.in_(warehouse_id))
    if product_id:
        conditions.append(StockMovement.product_id.in_(product_id))
    if order_id:
        conditions.append(StockMovement.order_id == order_id)
    if transfer_id:
        conditions.append(StockMovement.transfer_id == transfer_id)
    if kind:
        conditions.append(StockMovement.kind.in_(kind))
    if created_from:
        conditions.append(StockMovement.created_at >= created_from)
    if created_to:
        conditions.append(StockMovement.created_at < created_to)
    query = _after_seq(select(StockMovement).where(*conditions), cursor)
    async with uow:
        rows = list(await uow.session.scalars(query.limit(limit + 1)))
    page = page_by_key(rows, limit, lambda movement: [LEDGER_ORDER, movement.seq])
    return Page[MovementOut](
        items=[MovementOut.model_validate(m) for m in page.items], next_cursor=page.next_cursor
    )


def _after_seq(query: Select[Any], cursor: str | None) -> Select[Any]:
    """Newest first, continuing below the last seq the previous page showed."""
    query = query.order_by(StockMovement.seq.desc())
    after = decode_cursor(cursor)
    if after is None:
        return query
    seq = after[1] if len(after) == 2 and after[0] == LEDGER_ORDER else None
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 < seq < 2**63:
        raise invalid_cursor()
    return query.where(StockMovement.seq < seq)


@router.get(
    "/check",
    summary="Recompute every level from the ledger and list the drift (empty when consistent)",
)
async def check_ledger(_access: AuditAccess, uow: UnitOfWorkDep) -> LedgerCheckOut:
    async with uow:
        result = await stock.check_ledger(uow.session)
    return LedgerCheckOut(
        consistent=not result.drift,
        levels_checked=result.levels_checked,
        movements_checked=result.movements_checked,
        drift=[DriftOut.model_validate(drift) for drift in result.drift],
    )
