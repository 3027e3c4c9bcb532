"""Contracts of the erp.order topic: sales orders through their life cycle, shipments."""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal, Self

from pydantic import AwareDatetime, Field, model_validator

from shared_schemas.events.base import Currency, EventData
from shared_schemas.events.documents import (
    DocumentTotals,
    OrderLine,
    ShipmentLine,
    check_lines_add_up,
)
from shared_schemas.events.values import Amount, EventValue, Quantity

OrderStatus = Literal[
    "pending",
    "confirmed",
    "backordered",
    "on_hold",
    "partially_shipped",
    "shipped",
    "delivered",
    "cancelled",
]


class OrderEvent(EventData):
    """Fields every order event carries; `status` is the order's status after the event."""

    topic: ClassVar[str] = "erp.order"
    subject_field: ClassVar[str] = "order_id"

    order_id: uuid.UUID
    number: str = Field(description="Human order number.", examples=["SO-2026-000042"])
    quote_id: uuid.UUID | None = Field(
        description="The CRM quote the order came from; null for orders entered in ERP."
    )
    customer_id: uuid.UUID
    status: OrderStatus


class OrderCreated(OrderEvent, DocumentTotals):
    """A sales order was created, from an accepted quote or in ERP."""

    event_type: ClassVar[str] = "erp.order.created.v1"

    status: Literal["pending"] = "pending"
    lines: list[OrderLine] = Field(min_length=1)

    @model_validator(mode="after")
    def _lines_add_up(self) -> Self:
        check_lines_add_up(self.lines, self)
        return self


class OrderConfirmed(OrderEvent):
    """Every line of the order is reserved in stock."""

    event_type: ClassVar[str] = "erp.order.confirmed.v1"

    status: Literal["confirmed"] = "confirmed"
    previous_status: Literal["pending", "backordered", "on_hold"]


class StockShortage(EventValue):
    """An order line that could not be reserved in full."""

    sku: str = Field(min_length=1)
    product_id: uuid.UUID
    quantity: Quantity = Field(description="Units ordered on the line.")
    quantity_missing: Quantity = Field(description="Units still waiting for stock.")


class OrderBackordered(OrderEvent):
    """The order waits for stock; it is confirmed first-in first-out as receipts arrive."""

    event_type: ClassVar[str] = "erp.order.backordered.v1"

    status: Literal["backordered"] = "backordered"
    previous_status: Literal["pending", "on_hold"]
    shortages: list[StockShortage] = Field(min_length=1)


class OrderOnHold(OrderEvent):
    """The order is held until finance releases it (the customer's credit limit is exceeded)."""

    event_type: ClassVar[str] = "erp.order.on_hold.v1"

    status: Literal["on_hold"] = "on_hold"
    previous_status: Literal["pending", "backordered"]
    reason: Literal["credit_limit_exceeded"] = "credit_limit_exceeded"
    currency: Currency
    total: Amount = Field(description="The order's total.")
    credit_limit: Amount = Field(description="The customer's credit limit.")
    credit_exposure: Amount = Field(
        description="What the customer would owe with this order, as counted against the limit."
    )


class OrderShipped(OrderEvent):
    """A shipment left the warehouse; the order is now partially or fully shipped."""

    event_type: ClassVar[str] = "erp.order.shipped.v1"

    status: Literal["partially_shipped", "shipped"]
    shipment_id: uuid.UUID
    shipment_number: str | None = Field(default=None, description="Human shipment number.")
    lines: list[ShipmentLine] = Field(min_length=1, description="What this shipment carried.")
    carrier: str | None
    tracking_number: str | None
    shipped_at: AwareDatetime


class OrderDelivered(OrderEvent):
    """The customer received the order."""

    event_type: ClassVar[str] = "erp.order.delivered.v1"

    status: Literal["delivered"] = "delivered"
    delivered_at: AwareDatetime


class OrderCancelled(OrderEvent):
    """The order was cancelled before shipping; its reservations were released."""

    event_type: ClassVar[str] = "erp.order.cancelled.v1"

    status: Literal["cancelled"] = "cancelled"
    previous_status: Literal[
        "pending", "confirmed", "backordered", "on_hold", "partially_shipped"
    ] = Field(description="partially_shipped: what was not shipped yet is cancelled.")
    reason: str | None = None
