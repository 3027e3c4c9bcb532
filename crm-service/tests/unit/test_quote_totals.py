"""Quote arithmetic and rules without I/O: line amounts, totals, catalogue defaults, dates."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crm.domain.quotes import (
    CatalogueItem,
    check_valid_until,
    company_today,
    default_valid_until,
    is_overdue,
    price_lines,
    require_editable,
    require_still_valid,
)
from shared_schemas.domain import Conflict, RuleViolation

pytestmark = pytest.mark.unit

D = Decimal


def item(sku: str, price: str = "19.99", tax: str = "19", **overrides: Any) -> CatalogueItem:
    values: dict[str, Any] = {
        "product_id": uuid.uuid4(),
        "sku": sku,
        "name": f"Product {sku}",
        "unit_price": D(price),
        "currency": "EUR",
        "tax_rate": D(tax),
        "active": True,
        **overrides,
    }
    return CatalogueItem(**values)


def line(sku: str, quantity: int = 1, **fields: Any) -> dict[str, Any]:
    return {"sku": sku, "quantity": quantity, "discount_pct": D(0), **fields}


def test_three_at_19_99_with_ten_percent_off_and_19_percent_tax() -> None:
    [priced], totals = price_lines(
        [line("CHAIR", 3, discount_pct=D(10))], {"CHAIR": item("CHAIR")}, "EUR"
    )
    assert (priced.line_net, priced.line_tax) == (D("53.97"), D("10.25"))
    assert totals.subtotal == D("59.97")
    assert totals.discount_total == D("6.00")
    assert totals.tax_total == D("10.25")
    assert totals.total == D("64.22")


@pytest.mark.parametrize(
    ("quantity", "price", "discount", "tax", "net", "line_tax"),
    [
        (1, "0.25", "50", "0", "0.13", "0.00"),  # net 0.125 rounds half up
        (1, "0.50", "0", "5", "0.50", "0.03"),  # tax 0.025 rounds half up
        (1, "0.05", "50", "50", "0.03", "0.02"),  # 0.025 → 0.03, then 0.015 → 0.02
        (7, "3.33", "33.3333", "19", "15.54", "2.95"),
        (1, "100.00", "100", "19", "0.00", "0.00"),
    ],
)
def test_each_line_is_rounded_half_up_to_cents(
    quantity: int, price: str, discount: str, tax: str, net: str, line_tax: str
) -> None:
    requested = [
        line("X", quantity, unit_price=D(price), discount_pct=D(discount), tax_rate=D(tax))
    ]
    [priced], _ = price_lines(requested, {"X": item("X")}, "EUR")
    assert (priced.line_net, priced.line_tax) == (D(net), D(line_tax))


def test_totals_add_the_rounded_lines_rather_than_rounding_the_sum() -> None:
    requested = [line("A", 1, unit_price=D("0.25"), discount_pct=D(50), tax_rate=D(0))] * 2
    priced, totals = price_lines(requested, {"A": item("A")}, "EUR")
    assert [p.line_net for p in priced] == [D("0.13"), D("0.13")]
    assert totals.subtotal == D("0.50")
    # The sum of the rounded nets (0.26), not the rounded exact sum (0.25).
    assert totals.discount_total == D("0.24")
    assert totals.total == D("0.26")


def test_price_and_tax_rate_default_from_the_catalogue_and_explicit_ones_win() -> None:
    catalogue = {"A": item("A", "10.00", "19"), "B": item("B", "20.00", "7")}
    priced, totals = price_lines(
        [line("A", 2), line("B", 1, unit_price=D("15.00"), tax_rate=D("0"))], catalogue, "EUR"
    )
    assert [(p.unit_price, p.tax_rate) for p in priced] == [(D("10.00"), D(19)), (D("15.00"), 0)]
    assert priced[0].product_id == catalogue["A"].product_id
    assert priced[0].name == "Product A"
    assert totals.total == D("23.80") + D("15.00")


def test_unknown_and_inactive_skus_are_refused_naming_each_line() -> None:
    catalogue = {"A": item("A"), "OLD": item("OLD", active=False)}
    with pytest.raises(RuleViolation) as refused:
        price_lines([line("A"), line("NOPE"), line("A"), line("OLD")], catalogue, "EUR")
    assert [error["field"] for error in refused.value.errors] == ["lines.1.sku", "lines.3.sku"]


def test_a_product_priced_in_another_currency_needs_an_explicit_price() -> None:
    catalogue = {"US": item("US", currency="USD")}
    with pytest.raises(RuleViolation) as refused:
        price_lines([line("US")], catalogue, "EUR")
    assert refused.value.errors[0]["field"] == "lines.0.unit_price"
    [priced], _ = price_lines([line("US", unit_price=D("5.00"))], catalogue, "EUR")
    assert priced.unit_price == D("5.00")


def test_a_total_beyond_what_a_document_holds_is_refused() -> None:
    catalogue = {"BIG": item("BIG", "999999999999.99", "19")}
    with pytest.raises(RuleViolation) as refused:
        price_lines([line("BIG")], catalogue, "EUR")
    assert refused.value.errors == [
        {"field": "lines", "message": "the total must not exceed 999999999999.99"}
    ]
    # The largest total a document holds is still a quote.
    _, totals = price_lines([line("BIG", tax_rate=D(0))], catalogue, "EUR")
    assert totals.total == D("999999999999.99")


def test_today_is_the_company_time_zones_date() -> None:
    late_evening_utc = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert company_today(late_evening_utc, ZoneInfo("UTC")) == date(2026, 11, 30)
    assert company_today(late_evening_utc, ZoneInfo("Europe/Berlin")) == date(2026, 12, 1)
    assert company_today(late_evening_utc, ZoneInfo("America/New_York")) == date(2026, 11, 30)


def test_a_quote_is_valid_through_its_last_day() -> None:
    today = date(2026, 11, 20)
    assert default_valid_until(today, 30) == date(2026, 12, 20)
    assert not is_overdue(today, today)
    assert is_overdue(date(2026, 11, 19), today)
    check_valid_until(today, today)
    with pytest.raises(RuleViolation) as past:
        check_valid_until(date(2026, 11, 19), today)
    assert [error["field"] for error in past.value.errors] == ["valid_until"]
    require_still_valid("sent", "accept", today, today)
    with pytest.raises(Conflict) as late:
        require_still_valid("sent", "accept", date(2026, 11, 19), today)
    assert late.value.extra["current_status"] == "sent"
    assert late.value.extra["allowed"] == ["reject"]


@pytest.mark.parametrize("status", ["sent", "accepted", "rejected", "expired"])
def test_only_drafts_are_editable(status: str) -> None:
    require_editable("draft")
    with pytest.raises(Conflict) as refused:
        require_editable(status)
    assert refused.value.extra["current_status"] == status
