"""Quotes: their life cycle, validity dates, and lines priced from the product catalogue."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from crm.domain.opportunities import CLOSED_STAGES
from shared_schemas.domain import Conflict, RuleViolation, StateMachine
from shared_schemas.money import Totals, document_totals, line_amounts

DRAFT, SENT, ACCEPTED, REJECTED, EXPIRED = "draft", "sent", "accepted", "rejected", "expired"

LIFECYCLE = StateMachine(
    "quote",
    {DRAFT: {"send": SENT}, SENT: {"accept": ACCEPTED, "reject": REJECTED}},
)
"""What users may do; expiry is the sweep's own move from `sent`, never a user action."""

STATUSES = (DRAFT, SENT, ACCEPTED, REJECTED, EXPIRED)

MAX_LINES = 200

# The largest amount a document column holds (14 digits, 2 of them decimals).
MAX_AMOUNT = Decimal("999999999999.99")


def company_today(now: datetime, zone: ZoneInfo) -> date:
    """The calendar date in the company's time zone at the moment `now`."""
    return now.astimezone(zone).date()


def default_valid_until(today: date, validity_days: int) -> date:
    return today + timedelta(days=validity_days)


def check_valid_until(valid_until: date, today: date) -> None:
    """A quote cannot be made valid until a day that has passed already."""
    if valid_until < today:
        raise RuleViolation(
            f"valid_until {valid_until} is in the past.",
            [{"field": "valid_until", "message": f"must be {today} or later"}],
        )


def is_overdue(valid_until: date, today: date) -> bool:
    """A quote is good through its valid_until day and overdue from the day after."""
    return valid_until < today


def require_editable(status: str) -> None:
    """Only a draft's content may change; after sending, the customer holds that version."""
    if status != DRAFT:
        raise Conflict(
            f"A quote in status {status!r} cannot be changed; only drafts can.",
            current_status=status,
            allowed=LIFECYCLE.allowed(status),
        )


def require_still_valid(status: str, action: str, valid_until: date, today: date) -> None:
    """A quote whose validity has ended cannot be sent or accepted (409)."""
    if is_overdue(valid_until, today):
        raise Conflict(
            f"The quote was valid until {valid_until}; it cannot {action} any more.",
            current_status=status,
            allowed=[other for other in LIFECYCLE.allowed(status) if other != action],
            valid_until=valid_until.isoformat(),
        )


def require_open_opportunity(stage: str) -> None:
    """A quote may only join an opportunity that is still undecided."""
    if stage in CLOSED_STAGES:
        raise RuleViolation(
            f"The opportunity is {stage} already.",
            [{"field": "opportunity_id", "message": f"the opportunity is {stage}"}],
        )


@dataclass(frozen=True)
class CatalogueItem:
    """What the product replica says about one sku."""

    product_id: uuid.UUID
    sku: str
    name: str
    unit_price: Decimal
    currency: str
    tax_rate: Decimal
    active: bool


@dataclass(frozen=True)
class PricedLine:
    """A quote line with the amounts design §4 derives from it."""

    sku: str
    product_id: uuid.UUID
    name: str
    quantity: int
    unit_price: Decimal
    discount_pct: Decimal
    tax_rate: Decimal
    line_net: Decimal
    line_tax: Decimal


def price_line(
    quantity: int, unit_price: Decimal, discount_pct: Decimal, tax_rate: Decimal
) -> tuple[Decimal, Decimal]:
    """(line_net, line_tax) of one line, rounded half up to cents."""
    return line_amounts(quantity, unit_price, discount_pct, tax_rate)


def quote_totals(lines: Sequence[PricedLine]) -> Totals:
    """subtotal, discount_total, tax_total and total of the priced lines."""
    return document_totals(
        (line.quantity, line.unit_price, line.line_net, line.line_tax) for line in lines
    )


def price_lines(
    requested: Sequence[Mapping[str, Any]],
    catalogue: Mapping[str, CatalogueItem],
    currency: str,
) -> tuple[list[PricedLine], Totals]:
    """Resolve each requested line against the catalogue and price the quote.

    A line names a sku and quantity; unit_price and tax_rate default to the product's
    current ones. Every line that cannot be quoted is refused at once, each error naming
    its line (`lines.3.sku`).
    """
    errors: list[dict[str, str]] = []
    priced: list[PricedLine] = []
    for index, line in enumerate(requested):
        item = catalogue.get(line["sku"])
        field = f"lines.{index}"
        if item is None:
            errors.append({"field": f"{field}.sku", "message": f"no product {line['sku']!r}"})
            continue
        if not item.active:
            errors.append({"field": f"{field}.sku", "message": f"{item.sku} is not active"})
            continue
        unit_price = line.get("unit_price")
        if unit_price is None:
            if item.currency != currency:
                errors.append(
                    {
                        "field": f"{field}.unit_price",
                        "message": f"{item.sku} is priced in {item.currency}; give a price",
                    }
                )
                continue
            unit_price = item.unit_price
        tax_rate = line.get("tax_rate")
        if tax_rate is None:
            tax_rate = item.tax_rate
        discount_pct = line.get("discount_pct") or Decimal(0)
        quantity = int(line["quantity"])
        net, tax = price_line(quantity, unit_price, discount_pct, tax_rate)
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
        raise RuleViolation("Some lines cannot be quoted.", errors)
    totals = quote_totals(priced)
    if max(totals.subtotal, totals.total) > MAX_AMOUNT:
        raise RuleViolation(
            "The quote's total is too large.",
            [{"field": "lines", "message": f"the total must not exceed {MAX_AMOUNT}"}],
        )
    return priced, totals
