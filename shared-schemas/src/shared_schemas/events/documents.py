"""Priced document lines and the four document totals, with design.md §4 arithmetic.

Events are built from the same models they are read with, so a producer whose lines and
totals do not add up fails when it records the event, not at a consumer downstream.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Self

from pydantic import Field, model_validator

from shared_schemas.events.base import Currency
from shared_schemas.events.values import Amount, EventValue, Percentage, Quantity
from shared_schemas.money import line_amounts

__all__ = ["line_amounts"]  # re-exported: the arithmetic lives in shared_schemas.money


class PricedLine(EventValue):
    """A line of a quote, order or invoice, with its rounded net and tax."""

    sku: str = Field(min_length=1)
    quantity: Quantity
    unit_price: Amount
    discount_pct: Percentage = Field(description="Discount in percent, 0 to 100.")
    tax_rate: Percentage = Field(description='Tax rate in percent, e.g. "19".')
    line_net: Amount = Field(
        description="quantity * unit_price * (1 - discount_pct/100), rounded half up."
    )
    line_tax: Amount = Field(description="line_net * tax_rate/100, rounded half up.")

    @property
    def gross(self) -> Decimal:
        """quantity * unit_price, before discount and tax."""
        return self.quantity * self.unit_price

    def _check_rounding(self) -> None:
        net, tax = line_amounts(self.quantity, self.unit_price, self.discount_pct, self.tax_rate)
        if (self.line_net, self.line_tax) != (net, tax):
            raise ValueError(
                f"line {self.sku}: line_net/line_tax must be {net}/{tax}, "
                f"got {self.line_net}/{self.line_tax}"
            )


class QuoteLine(PricedLine):
    """A quote line; the product is named when CRM's product replica knows the sku."""

    product_id: uuid.UUID | None = Field(default=None, description="ERP product id, if known.")
    name: str | None = Field(default=None, description="Product name at the time of quoting.")

    @model_validator(mode="after")
    def _rounded_as_designed(self) -> Self:
        self._check_rounding()
        return self


class OrderLine(PricedLine):
    """A sales order line."""

    product_id: uuid.UUID
    name: str

    @model_validator(mode="after")
    def _rounded_as_designed(self) -> Self:
        self._check_rounding()
        return self


class InvoiceLine(PricedLine):
    """An invoice line: the quantity shipped and invoiced now.

    Not re-rounded: when an order line is invoiced over several shipments, the last
    invoice takes what remains of the order line's line_net and line_tax (design.md §5).
    """

    product_id: uuid.UUID
    name: str


class ShipmentLine(EventValue):
    """Units of one product that left the warehouse in a shipment."""

    sku: str = Field(min_length=1)
    product_id: uuid.UUID
    quantity: Quantity


class DocumentTotals(EventValue):
    """The four totals of design.md §4, flat on the document, with its one currency."""

    currency: Currency
    subtotal: Amount = Field(description="Sum of quantity * unit_price over the lines.")
    discount_total: Amount = Field(description="subtotal - sum of line_net.")
    tax_total: Amount = Field(description="Sum of line_tax.")
    total: Amount = Field(description="Sum of line_net + tax_total.")

    @model_validator(mode="after")
    def _totals_add_up(self) -> Self:
        if self.subtotal - self.discount_total + self.tax_total != self.total:
            raise ValueError("total must equal subtotal - discount_total + tax_total")
        return self


def check_lines_add_up(lines: Sequence[PricedLine], totals: DocumentTotals) -> None:
    """Raise ValueError unless the document's totals are exactly what its lines give."""
    gross = sum((line.gross for line in lines), Decimal(0))
    net = sum((line.line_net for line in lines), Decimal(0))
    tax = sum((line.line_tax for line in lines), Decimal(0))
    expected = {
        "subtotal": gross,
        "discount_total": gross - net,
        "tax_total": tax,
        "total": net + tax,
    }
    for name, value in expected.items():
        actual = getattr(totals, name)
        if actual != value:
            raise ValueError(f"{name} must be {value:.2f} from the lines, got {actual:.2f}")
