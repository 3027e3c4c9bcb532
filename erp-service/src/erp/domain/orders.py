"""Sales orders: their life cycle, lines priced from the catalogue, the credit rule, and
what each line still waits for in stock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from shared_schemas import pricing
from shared_schemas.domain import StateMachine
from shared_schemas.money import Totals
from shared_schemas.pricing import MAX_AMOUNT as MAX_AMOUNT
from shared_schemas.pricing import MAX_LINES as MAX_LINES
from shared_schemas.pricing import CatalogueItem as CatalogueItem
from shared_schemas.pricing import PricedLine as PricedLine

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


def price_lines(
    requested: Sequence[Mapping[str, Any]],
    catalogue: Mapping[str, CatalogueItem],
    *,
    accept_inactive: bool = False,
) -> tuple[list[PricedLine], Totals]:
    """Price an order: unit_price and tax_rate default to the product's, discount_pct to
    0. `accept_inactive` honours products deactivated after an accepted quote named them."""
    return pricing.price_lines(
        requested, catalogue, document="order", accept_inactive=accept_inactive
    )
