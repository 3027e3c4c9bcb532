"""Contracts of the erp.stock topic: stock running low, manual adjustments."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import Field

from shared_schemas.events.base import EventData
from shared_schemas.events.values import StockCount


class StockEvent(EventData):
    """A stock level (one product in one warehouse) after a change; keyed by product."""

    topic: ClassVar[str] = "erp.stock"
    subject_field: ClassVar[str] = "product_id"

    version: int = Field(
        ge=1, description="The version of this product's stock level in this warehouse."
    )
    product_id: uuid.UUID
    sku: str = Field(min_length=1)
    warehouse_id: uuid.UUID
    on_hand: StockCount = Field(description="Units physically in the warehouse.")
    reserved: StockCount = Field(description="Units promised to confirmed orders.")
    available: StockCount = Field(description="on_hand - reserved.")


class StockLow(StockEvent):
    """Available stock of a product in a warehouse fell below its reorder point."""

    event_type: ClassVar[str] = "erp.stock.low.v1"

    reorder_point: StockCount


class StockAdjusted(StockEvent):
    """Stock was adjusted by hand (count correction, damage, ...); levels after it."""

    event_type: ClassVar[str] = "erp.stock.adjusted.v1"

    movement_id: uuid.UUID
    quantity: int = Field(description="Signed change of on_hand: negative removes units.")
    reason: str = Field(min_length=1)
