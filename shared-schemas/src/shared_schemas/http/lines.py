"""The line of a document a client sends (a quote's in CRM, an order's in ERP): a sku,
a quantity and, where the client sets them, its own price terms."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from shared_schemas.http.json_types import JsonInt
from shared_schemas.money import Money, Percent
from shared_schemas.pricing import MAX_AMOUNT

Price = Annotated[Money, Field(ge=0, le=MAX_AMOUNT)]
# Rates are stored with four decimals; more would be rounded away silently.
Rate = Annotated[Percent, Field(ge=0, le=100, decimal_places=4)]
Quantity = Annotated[JsonInt, Field(ge=1, le=1_000_000)]

LINE_EXAMPLE: dict[str, JsonValue] = {
    "sku": "CHAIR-01",
    "quantity": 3,
    "unit_price": "19.99",
    "discount_pct": "10",
    "tax_rate": "19",
}


class LineIn(BaseModel):
    """A requested line; unit_price and tax_rate default to the product's, no discount."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [LINE_EXAMPLE]})

    sku: str = Field(min_length=1, max_length=64)
    quantity: Quantity
    unit_price: Price | None = Field(default=None, description="Default: the list price.")
    discount_pct: Rate = Field(default=Decimal(0), description="Discount in percent, 0 to 100.")
    tax_rate: Rate | None = Field(default=None, description="Default: the product's tax rate.")
