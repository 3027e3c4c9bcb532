"""`/shipments` and `/orders/{id}/shipments`: what left the warehouse for an order, and
`/orders/{id}/deliver`, the customer having received it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, model_validator

from erp.adapters.sales import Shipment
from erp.api.deps import UnitOfWorkDep
from erp.api.orders import OrderOut
from erp.service import shipments
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.json_types import JsonInt
from shared_schemas.http.pagination import CreatedFrom, CreatedTo, Cursor, Limit, Page
from shared_schemas.http.text import Words
from shared_schemas.identity import Access, Authorize

router = APIRouter(tags=["shipments"])

ReadAccess = Annotated[Access, Depends(Authorize("erp", "shipments", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("erp", "shipments", "create"))]
DeliverAccess = Annotated[Access, Depends(Authorize("erp", "orders", "deliver"))]

MAX_LINES = 200
SORTS = "`created_at` or `shipped_at`; prefix `-` for descending."
Text = Annotated[Words, Field(max_length=100)]

LINE_EXAMPLE: dict[str, JsonValue] = {"sku": "CHAIR-01", "quantity": 2}
EXAMPLE: dict[str, JsonValue] = {
    "lines": [LINE_EXAMPLE],
    "carrier": "DHL",
    "tracking_number": "00340434161094042557",
    "shipped_at": "2026-11-24T14:30:00Z",
}


class ShipmentLineIn(BaseModel):
    """Units of one order line, named by its sku (when the order has one line of it) or
    its id."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [LINE_EXAMPLE]})

    sku: str | None = Field(default=None, min_length=1, max_length=64)
    order_line_id: uuid.UUID | None = None
    quantity: JsonInt = Field(ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _names_one_line(self) -> Self:
        if (self.sku is None) == (self.order_line_id is None):
            raise ValueError("give either sku or order_line_id")
        return self


class ShipmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    lines: list[ShipmentLineIn] = Field(min_length=1, max_length=MAX_LINES)
    carrier: Text | None = Field(default=None, description="Who carries it; null for pickup.")
    tracking_number: Text | None = None
    shipped_at: AwareDatetime | None = Field(
        default=None,
        description="When it left the warehouse; default now, never later, and never "
        "before the order's `confirmed_at` (when all its goods were reserved).",
    )


class DeliveryIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"delivered_at": "2026-11-26T09:12:00Z"}]}
    )

    delivered_at: AwareDatetime | None = Field(
        default=None, description="When the customer received it; default now."
    )


class ShipmentLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    order_line_id: uuid.UUID
    sku: str
    product_id: uuid.UUID
    quantity: int


class ShipmentOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **EXAMPLE,
                    "id": "3c0e5f7a-9b2d-4e61-8f4a-1d2c3b4a5e60",
                    "number": "SH-2026-000017",
                    "order_id": "8e2b1a4c-5d6f-4a7b-9c8d-0e1f2a3b4c5d",
                    "warehouse_id": "1f2e3d4c-5b6a-4789-8a0b-c1d2e3f4a5b6",
                    "lines": [
                        {
                            **LINE_EXAMPLE,
                            "order_line_id": "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
                            "product_id": "7a3e9a1c-1f7e-4b8e-9e43-1c2b3d4e5f60",
                        }
                    ],
                    "created_by": "user-warehouse",
                    "version": 1,
                    "created_at": "2026-11-24T14:31:02Z",
                    "updated_at": "2026-11-24T14:31:02Z",
                }
            ]
        },
    )

    id: uuid.UUID
    number: str
    order_id: uuid.UUID
    warehouse_id: uuid.UUID
    carrier: str | None
    tracking_number: str | None
    shipped_at: datetime
    lines: list[ShipmentLineOut]
    created_by: str
    version: int
    created_at: datetime
    updated_at: datetime


class ShipmentRecorded(ShipmentOut):
    """A new shipment, with the status its order moved to."""

    order_status: str = Field(description="partially_shipped or shipped.")
    order_version: int = Field(description="The order's version now (its ETag).")


@router.post(
    "/orders/{order_id}/shipments",
    status_code=status.HTTP_201_CREATED,
    summary="Ship reserved units of an order",
    responses={
        404: {"description": "No such order"},
        409: {
            "description": "The order may not ship in its status (`current_status`, "
            "`allowed`), or a line asks for more than is reserved (`errors`)"
        },
        412: {"description": "If-Match names an older version of the order"},
        422: {"description": "A line is unknown or asks for more than ordered (`errors`)"},
    },
)
async def ship_order(
    order_id: uuid.UUID,
    body: ShipmentCreate,
    _access: CreateAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> ShipmentRecorded:
    shipment, order = await shipments.ship_order(
        uow,
        order_id,
        lines=[
            shipments.RequestedLine(
                quantity=line.quantity, sku=line.sku, order_line_id=line.order_line_id
            )
            for line in body.lines
        ],
        carrier=body.carrier,
        tracking_number=body.tracking_number,
        shipped_at=body.shipped_at,
        expected_version=expected_version(if_match),
    )
    response.headers["Location"] = f"/shipments/{shipment.id}"
    set_etag(response, shipment.version)
    return ShipmentRecorded.model_validate(
        {**_fields(shipment), "order_status": order.status, "order_version": order.version}
    )


@router.post(
    "/orders/{order_id}/deliver",
    summary="Record that the customer received the order",
    responses={
        404: {"description": "No such order"},
        409: {"description": "Not shipped in full (`current_status`, `allowed`)"},
        412: {"description": "If-Match names an older version"},
        422: {"description": "delivered_at in the future or before the order shipped"},
    },
)
async def deliver_order(
    order_id: uuid.UUID,
    _access: DeliverAccess,
    uow: UnitOfWorkDep,
    response: Response,
    body: DeliveryIn | None = None,
    if_match: IfMatch = None,
) -> OrderOut:
    order = await shipments.deliver_order(
        uow,
        order_id,
        delivered_at=body.delivered_at if body else None,
        expected_version=expected_version(if_match),
    )
    set_etag(response, order.version)
    return OrderOut.model_validate(order)


@router.get("/orders/{order_id}/shipments", summary="The shipments of one order")
async def list_order_shipments(
    order_id: uuid.UUID,
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[str | None, Query(description=SORTS)] = "shipped_at",
) -> Page[ShipmentOut]:
    async with uow:
        await shipments.require_order(uow.session, order_id)
        page = await shipments.list_shipments(
            uow.session, shipments.ShipmentFilters(order_id=order_id), sort, cursor, limit
        )
    return _page(page)


@router.get("/shipments", summary="List shipments")
async def list_shipments(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[str | None, Query(description=SORTS)] = None,
    order_id: uuid.UUID | None = None,
    carrier: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
    customer_id: Annotated[
        uuid.UUID | None, Query(description="Shipments of the orders of this customer.")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="Prefix of the number (`SH-2026`) or of the tracking number (any case).",
        ),
    ] = None,
) -> Page[ShipmentOut]:
    filters = shipments.ShipmentFilters(
        order_id=order_id,
        carrier=carrier,
        created_from=created_from,
        created_to=created_to,
        customer_id=customer_id,
        q=q,
    )
    async with uow:
        page = await shipments.list_shipments(uow.session, filters, sort, cursor, limit)
    return _page(page)


@router.get("/shipments/{shipment_id}", summary="One shipment with its lines")
async def get_shipment(
    shipment_id: uuid.UUID, _access: ReadAccess, uow: UnitOfWorkDep, response: Response
) -> ShipmentOut:
    async with uow:
        shipment = await shipments.get_shipment(uow.session, shipment_id)
    set_etag(response, shipment.version)
    return ShipmentOut.model_validate(shipment)


def _fields(shipment: Shipment) -> dict[str, Any]:
    return ShipmentOut.model_validate(shipment).model_dump()


def _page(page: Page[Shipment]) -> Page[ShipmentOut]:
    return Page[ShipmentOut](
        items=[ShipmentOut.model_validate(shipment) for shipment in page.items],
        next_cursor=page.next_cursor,
    )
