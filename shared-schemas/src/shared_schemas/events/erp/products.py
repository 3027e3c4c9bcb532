"""Contracts of the erp.product topic: products created and updated, full state each time."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import Field

from shared_schemas.events.base import Currency, EventData
from shared_schemas.events.values import Amount, Percentage, StockCount


class ProductState(EventData):
    """The product's full current state (design.md §6: replicated state is complete)."""

    topic: ClassVar[str] = "erp.product"
    subject_field: ClassVar[str] = "product_id"

    product_id: uuid.UUID
    sku: str = Field(min_length=1)
    name: str = Field(min_length=1)
    unit_price: Amount = Field(description="List price per unit, before tax, in `currency`.")
    currency: Currency
    tax_rate: Percentage = Field(description='Tax rate in percent, e.g. "19".')
    cost: Amount = Field(description="Standard cost per unit, in `currency`; values stock.")
    reorder_point: StockCount = Field(
        description="erp.stock.low is published when available falls below this."
    )
    active: bool = Field(description="Inactive products cannot be quoted or ordered.")


class ProductCreated(ProductState):
    """A product was created in ERP; its full state."""

    event_type: ClassVar[str] = "erp.product.created.v1"


class ProductUpdated(ProductState):
    """A product was changed (repriced, renamed, deactivated...); its full current state."""

    event_type: ClassVar[str] = "erp.product.updated.v1"
