"""Pricing a document's requested lines against a product catalogue: the one way quotes
(CRM) and orders (ERP) turn a sku and a quantity into lines and totals (design §4)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from shared_schemas.domain import RuleViolation
from shared_schemas.money import Totals, document_totals, line_amounts

MAX_LINES = 200

Default = TypeVar("Default", Decimal, None)

# The largest amount a document column holds (14 digits, 2 of them decimals).
MAX_AMOUNT = Decimal("999999999999.99")


@dataclass(frozen=True)
class CatalogueItem:
    """What the service's catalogue (ERP's products, CRM's replica) says about one sku.
    `currency` is the list price's, where the catalogue knows it."""

    product_id: uuid.UUID
    sku: str
    name: str
    unit_price: Decimal
    tax_rate: Decimal
    active: bool
    currency: str | None = None


@dataclass(frozen=True)
class PricedLine:
    """A document line with the amounts design §4 derives from it."""

    sku: str
    product_id: uuid.UUID
    name: str
    quantity: int
    unit_price: Decimal
    discount_pct: Decimal
    tax_rate: Decimal
    line_net: Decimal
    line_tax: Decimal


def price_lines(
    requested: Sequence[Mapping[str, Any]],
    catalogue: Mapping[str, CatalogueItem],
    *,
    document: str,
    currency: str | None = None,
    accept_inactive: bool = False,
) -> tuple[list[PricedLine], Totals]:
    """Resolve each requested line against the catalogue and price the `document`
    ("quote", "order").

    A line names a sku and quantity; unit_price and tax_rate default to the product's,
    discount_pct to 0. A line without a price whose product is listed in another currency
    than the document's is refused (nothing converts currencies). Every line that cannot
    be priced is refused at once, each error naming its line (`lines.3.sku`); 422.
    `accept_inactive` honours products deactivated after a document named them.
    """
    errors: list[dict[str, str]] = []
    priced: list[PricedLine] = []
    for index, line in enumerate(requested):
        field = f"lines.{index}"
        item = catalogue.get(line["sku"])
        if item is None:
            errors.append({"field": f"{field}.sku", "message": f"no product {line['sku']!r}"})
            continue
        if not item.active and not accept_inactive:
            errors.append({"field": f"{field}.sku", "message": f"{item.sku} is not active"})
            continue
        unit_price = _given(line, "unit_price", None)
        if unit_price is None:
            if currency is not None and item.currency not in (None, currency):
                errors.append(
                    {
                        "field": f"{field}.unit_price",
                        "message": f"{item.sku} is priced in {item.currency}; give a price",
                    }
                )
                continue
            unit_price = item.unit_price
        tax_rate = _given(line, "tax_rate", item.tax_rate)
        discount_pct = _given(line, "discount_pct", Decimal(0))
        quantity = int(line["quantity"])
        net, tax = line_amounts(quantity, unit_price, discount_pct, tax_rate)
        priced.append(
            PricedLine(
                sku=item.sku,
                product_id=item.product_id,
                name=item.name,
                quantity=quantity,
                unit_price=unit_price,
                discount_pct=discount_pct,
                tax_rate=tax_rate,
                line_net=net,
                line_tax=tax,
            )
        )
    if errors:
        raise RuleViolation(f"Some lines cannot be put on the {document}.", errors)
    totals = document_totals(
        (line.quantity, line.unit_price, line.line_net, line.line_tax) for line in priced
    )
    if max(totals.subtotal, totals.total) > MAX_AMOUNT:
        raise RuleViolation(
            f"The {document}'s total is too large.",
            [{"field": "lines", "message": f"the total must not exceed {MAX_AMOUNT}"}],
        )
    return priced, totals


def _given(line: Mapping[str, Any], name: str, default: Default) -> Decimal | Default:
    value = line.get(name)
    return default if value is None else Decimal(value)
