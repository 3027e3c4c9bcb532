"""Sales orders: their life cycle, lines priced from the catalogue, the credit rule, and
what each line still waits for in stock."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shared_schemas.domain import RuleViolation, StateMachine
from shared_schemas.money import Totals, document_totals, line_amounts

PENDING = "pending"
CONFIRMED = "confirmed"
BACKORDERED = "backordered"
ON_HOLD = "on_hold"
PARTIALLY_SHIPPED = "partially_shipped"
SHIPPED = "shipped"
DELIVERED = "delivered"
CANCELLED = "cancelled"

STATUSES = (
    PENDING,
    CONFIRMED,
    BACKORDERED,
    ON_HOLD,
    PARTIALLY_SHIPPED,
    SHIPPED,
    DELIVERED,
    CANCELLED,
)

LIFECYCLE = StateMachine(
    "order",
    {
        PENDING: {"cancel": CANCELLED},
        # Released by finance: back to pending, then reserved like a new order.
        ON_HOLD: {"release": PENDING, "cancel": CANCELLED},
        BACKORDERED: {"cancel": CANCELLED},
        CONFIRMED: {"ship": PARTIALLY_SHIPPED, "cancel": CANCELLED},
        # Cancelling a partially shipped order cancels what was not shipped yet.
        PARTIALLY_SHIPPED: {"ship": PARTIALLY_SHIPPED, "cancel": CANCELLED},
        SHIPPED: {"deliver": DELIVERED},
    },
)
"""What users do through the transition routes (`allowed` in a 409 names these). `ship`
leads to shipped instead once every unit is shipped: see `status_after_shipment`."""

ALLOCATION = StateMachine(
    "order",
    {
        PENDING: {"confirm": CONFIRMED, "backorder": BACKORDERED, "hold": ON_HOLD},
        BACKORDERED: {"confirm": CONFIRMED},
    },
)
"""What the system does by itself: the credit check and the outcome of reserving stock."""

OPEN_STATUSES = (CONFIRMED, BACKORDERED, PARTIALLY_SHIPPED, SHIPPED, DELIVERED)
"""Orders the customer owes for until they are invoiced: they count against the credit
limit. Held orders do not (finance has not accepted them); cancelled ones are gone."""

HOLD_CREDIT = "credit_limit_exceeded"

MAX_LINES = 200

# The largest amount a document column holds (14 digits, 2 of them decimals).
MAX_AMOUNT = Decimal("999999999999.99")


def status_after_shipment(current: str, fully_shipped: bool) -> str:
    """partially_shipped or shipped after a shipment; IllegalTransition if the order may
    not ship in its status."""
    partial = LIFECYCLE.next(current, "ship")
    return SHIPPED if fully_shipped else partial


def status_after_reservation(current: str, fully_reserved: bool) -> str:
    """confirmed when every unit is reserved, else backordered (keeping what was)."""
    return ALLOCATION.next(current, "confirm" if fully_reserved else "backorder")


def over_credit_limit(exposure: Decimal, total: Decimal, credit_limit: Decimal | None) -> bool:
    """The order would take the customer past their limit; no limit set means none."""
    return credit_limit is not None and exposure + total > credit_limit


def units_missing(quantity: int, reserved: int, shipped: int) -> int:
    """Units of a line neither reserved nor shipped yet: what it waits for in stock.

    `reserved` counts units reserved and not shipped; shipping moves units from reserved
    to shipped.
    """
    return max(quantity - reserved - shipped, 0)


@dataclass(frozen=True)
class CatalogueItem:
    """What ERP's catalogue says about one sku."""

    product_id: uuid.UUID
    sku: str
    name: str
    unit_price: Decimal
    tax_rate: Decimal
    active: bool


@dataclass(frozen=True)
class PricedLine:
    """An order line with the amounts design §4 derives from it."""

    product_id: uuid.UUID
    sku: str
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
    accept_inactive: bool = False,
) -> tuple[list[PricedLine], Totals]:
    """Resolve each requested line against the catalogue and price the order.

    A line names a sku and quantity; unit_price and tax_rate default to the product's,
    discount_pct to 0. Every line that cannot be ordered is refused at once, each error
    naming its line (`lines.3.sku`). `accept_inactive` honours products deactivated after
    an accepted quote named them.
    """
    errors: list[dict[str, str]] = []
    priced: list[PricedLine] = []
    for index, line in enumerate(requested):
        field = f"lines.{index}.sku"
        item = catalogue.get(line["sku"])
        if item is None:
            errors.append({"field": field, "message": f"no product {line['sku']!r}"})
            continue
        if not item.active and not accept_inactive:
            errors.append({"field": field, "message": f"{item.sku} is not active"})
            continue
        unit_price = _given(line, "unit_price", item.unit_price)
        tax_rate = _given(line, "tax_rate", item.tax_rate)
        discount_pct = _given(line, "discount_pct", Decimal(0))
        quantity = int(line["quantity"])
        net, tax = line_amounts(quantity, unit_price, discount_pct, tax_rate)
        priced.append(
            PricedLine(
                product_id=item.product_id,
                sku=item.sku,
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
        raise RuleViolation("Some lines cannot be ordered.", errors)
    totals = document_totals(
        (line.quantity, line.unit_price, line.line_net, line.line_tax) for line in priced
    )
    if max(totals.subtotal, totals.total) > MAX_AMOUNT:
        raise RuleViolation(
            "The order's total is too large.",
            [{"field": "lines", "message": f"the total must not exceed {MAX_AMOUNT}"}],
        )
    return priced, totals


def _given(line: Mapping[str, Any], name: str, default: Decimal) -> Decimal:
    value = line.get(name)
    return default if value is None else Decimal(value)
