"""Quotes: their life cycle, validity dates, and lines priced from the product catalogue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crm.domain.opportunities import CLOSED_STAGES
from shared_schemas import pricing
from shared_schemas.domain import Conflict, RuleViolation, StateMachine
from shared_schemas.money import Totals
from shared_schemas.pricing import MAX_AMOUNT as MAX_AMOUNT
from shared_schemas.pricing import MAX_LINES as MAX_LINES
from shared_schemas.pricing import CatalogueItem as CatalogueItem
from shared_schemas.pricing import PricedLine as PricedLine

DRAFT, SENT, ACCEPTED, REJECTED, EXPIRED = "draft", "sent", "accepted", "rejected", "expired"

LIFECYCLE = StateMachine(
    "quote",
    {DRAFT: {"send": SENT}, SENT: {"accept": ACCEPTED, "reject": REJECTED}},
)
"""What users may do; expiry is the sweep's own move from `sent`, never a user action."""

STATUSES = (DRAFT, SENT, ACCEPTED, REJECTED, EXPIRED)


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


def price_lines(
    requested: Sequence[Mapping[str, Any]],
    catalogue: Mapping[str, CatalogueItem],
    currency: str,
) -> tuple[list[PricedLine], Totals]:
    """Price a quote in `currency`: unit_price and tax_rate default to the product's
    current ones, and a product listed in another currency needs a price of its own."""
    return pricing.price_lines(requested, catalogue, document="quote", currency=currency)
