"""`/orders`: sales orders from creation through credit hold, reservation and cancel
(shipping and delivery are the shipments routes)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from erp.adapters.sales import Order
from erp.api.deps import UnitOfWorkDep
from erp.domain.orders import MAX_LINES
from erp.service import orders
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.lines import LINE_EXAMPLE, LineIn
from shared_schemas.http.pagination import CreatedFrom, CreatedTo, Cursor, Limit, Page
from shared_schemas.identity import Access, Authorize
from shared_schemas.money import Currency, Money, Percent

router = APIRouter(prefix="/orders", tags=["orders"])

ReadAccess = Annotated[Access, Depends(Authorize("erp", "orders", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("erp", "orders", "create"))]
ReleaseAccess = Annotated[Access, Depends(Authorize("erp", "orders", "release"))]
CancelAccess = Annotated[Access, Depends(Authorize("erp", "orders", "cancel"))]

Status = Literal[
    "pending",
    "confirmed",
    "backordered",
    "on_hold",
    "partially_shipped",
    "shipped",
    "delivered",
    "cancelled",
]


class OrderLineIn(LineIn):
    """A line to order; unit_price and tax_rate default to the product's, no discount."""


class OrderCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "0b6f2f4e-3c1a-4f57-9a52-2f0f6a0f3b11",
                    "notes": "Deliver to the back entrance.",
                    "lines": [LINE_EXAMPLE, {"sku": "DESK-02", "quantity": 1}],
                }
            ]
        },
    )

    customer_id: uuid.UUID = Field(description="A customer ERP knows from CRM, not archived.")
    currency: Currency | None = Field(
        default=None, description="The company currency (the default); no other is accepted."
    )
    notes: str | None = Field(default=None, max_length=5000)
    lines: list[OrderLineIn] = Field(min_length=1, max_length=MAX_LINES)


class OrderCancel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "Customer withdrew"}]}
    )

    reason: str | None = Field(default=None, max_length=500)


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    position: int
    product_id: uuid.UUID
    sku: str
    name: str
    quantity: int
    unit_price: Money
    discount_pct: Percent
    tax_rate: Percent
    line_net: Money = Field(description="quantity * unit_price * (1 - discount), half up.")
    line_tax: Money = Field(description="line_net * tax_rate, half up.")
    quantity_reserved: int = Field(description="Units reserved in stock and not shipped yet.")
    quantity_shipped: int


class OrderOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "8e2b1a4c-5d6f-4a7b-9c8d-0e1f2a3b4c5d",
                    "number": "SO-2026-000042",
                    "customer_id": "0b6f2f4e-3c1a-4f57-9a52-2f0f6a0f3b11",
                    "quote_id": None,
                    "status": "confirmed",
                    "currency": "EUR",
                    "warehouse_id": "1f2e3d4c-5b6a-4789-8a0b-c1d2e3f4a5b6",
                    "lines": [
                        {
                            **LINE_EXAMPLE,
                            "id": "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
                            "position": 1,
                            "product_id": "7a3e9a1c-1f7e-4b8e-9e43-1c2b3d4e5f60",
                            "name": "Office chair",
                            "line_net": "53.97",
                            "line_tax": "10.25",
                            "quantity_reserved": 3,
                            "quantity_shipped": 0,
                        }
                    ],
                    "subtotal": "59.97",
                    "discount_total": "6.00",
                    "tax_total": "10.25",
                    "total": "64.22",
                    "invoiced_total": "0.00",
                    "customer_snapshot": {
                        "id": "0b6f2f4e-3c1a-4f57-9a52-2f0f6a0f3b11",
                        "version": 3,
                        "kind": "company",
                        "name": "Acme GmbH",
                        "credit_limit": "50000.00",
                        "payment_terms_days": 30,
                    },
                    "hold_reason": None,
                    "cancel_reason": None,
                    "notes": None,
                    "created_by": "user-sales",
                    "confirmed_at": "2026-11-20T10:00:00Z",
                    "shipped_at": None,
                    "delivered_at": None,
                    "cancelled_at": None,
                    "version": 2,
                    "created_at": "2026-11-20T10:00:00Z",
                    "updated_at": "2026-11-20T10:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    quote_id: uuid.UUID | None = Field(description="The CRM quote it came from, if any.")
    status: Status
    currency: str
    warehouse_id: uuid.UUID = Field(description="Where its stock is reserved and shipped from.")
    lines: list[OrderLineOut]
    subtotal: Money = Field(description="Sum of quantity * unit_price.")
    discount_total: Money = Field(description="subtotal - sum of line_net.")
    tax_total: Money = Field(description="Sum of line_tax.")
    total: Money = Field(description="Sum of line_net + tax_total.")
    invoiced_total: Money
    customer_snapshot: dict[str, JsonValue] = Field(
        description="The customer (addresses, terms) as the order was taken."
    )
    hold_reason: str | None = Field(description="Why it is on hold: credit_limit_exceeded.")
    cancel_reason: str | None
    notes: str | None
    created_by: str
    confirmed_at: datetime | None = Field(
        description="When every unit was reserved: created_at for an order confirmed as it "
        "was placed; later for one backordered or held first. Null until then."
    )
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


def _respond(response: Response, order: Order) -> OrderOut:
    set_etag(response, order.version)
    return OrderOut.model_validate(order)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an order: credit check, then stock reservation",
    responses={
        409: {"description": "There is no default warehouse yet"},
        422: {
            "description": "Bad input: unknown customer, unknown or inactive sku (`lines.<n>.sku`)"
        },
    },
)
async def create_order(
    body: OrderCreate, _access: CreateAccess, uow: UnitOfWorkDep, response: Response
) -> OrderOut:
    order = await orders.create_order(
        uow,
        orders.OrderRequest(
            customer_id=body.customer_id,
            currency=body.currency,
            lines=[line.model_dump() for line in body.lines],
            notes=body.notes,
        ),
    )
    response.headers["Location"] = f"/orders/{order.id}"
    return _respond(response, order)


@router.get("", summary="List orders")
async def list_orders(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[
        str | None, Query(description="`created_at` or `number`; prefix `-` for descending.")
    ] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=40, description="Prefix of the number, e.g. `SO-2026`."),
    ] = None,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    customer_id: uuid.UUID | None = None,
    quote_id: uuid.UUID | None = None,
    sku: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Orders with a line of it.")
    ] = None,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
) -> Page[OrderOut]:
    filters = orders.OrderFilters(
        statuses=list(status_ or []),
        customer_id=customer_id,
        quote_id=quote_id,
        sku=sku,
        created_from=created_from,
        created_to=created_to,
        q=q,
    )
    async with uow:
        page = await orders.list_orders(uow.session, filters, sort, cursor, limit)
    return Page[OrderOut](
        items=[OrderOut.model_validate(order) for order in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/{order_id}", summary="One order with its lines")
async def get_order(
    order_id: uuid.UUID, _access: ReadAccess, uow: UnitOfWorkDep, response: Response
) -> OrderOut:
    async with uow:
        order = await orders.get_order(uow.session, order_id)
    return _respond(response, order)


TRANSITION_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such order"},
    409: {"description": "Not allowed in the current status (`current_status`, `allowed`)"},
    412: {"description": "If-Match names an older version"},
}


@router.post(
    "/{order_id}/release",
    summary="Release a credit hold: the order is then reserved (confirmed or backordered)",
    responses=TRANSITION_RESPONSES,
)
async def release_order(
    order_id: uuid.UUID,
    _access: ReleaseAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> OrderOut:
    order = await orders.release_order(uow, order_id, expected_version(if_match))
    return _respond(response, order)


@router.post(
    "/{order_id}/cancel",
    summary="Cancel an order not shipped in full; its reservations go back to stock",
    responses=TRANSITION_RESPONSES,
)
async def cancel_order(
    order_id: uuid.UUID,
    _access: CancelAccess,
    uow: UnitOfWorkDep,
    response: Response,
    body: OrderCancel | None = None,
    if_match: IfMatch = None,
) -> OrderOut:
    reason = body.reason if body else None
    order = await orders.cancel_order(uow, order_id, reason, expected_version(if_match))
    return _respond(response, order)
