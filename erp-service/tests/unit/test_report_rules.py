"""Report arithmetic without I/O: aging buckets by days past due, trial balance columns,
sections with current earnings, budget variance, the periods budgets are compared over."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from erp.domain.ledger import parse_period
from erp.domain.reports import (
    BUCKETS,
    CURRENT_EARNINGS,
    AccountTotals,
    Aging,
    BudgetedAccount,
    aged,
    aging_report,
    balance_sheet,
    bucket_of,
    budget_vs_actual,
    check_range,
    days_past_due,
    earliest_due_dates,
    profit_and_loss,
    trial_balance,
)
from shared_schemas.domain import RuleViolation

pytestmark = pytest.mark.unit

D = Decimal
AS_OF = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("due_date", "bucket"),
    [
        (date(2027, 1, 15), "current"),  # not due for weeks
        (date(2026, 12, 1), "current"),  # due tomorrow
        (date(2026, 11, 30), "current"),  # due today: 0 days past due
        (date(2026, 11, 29), "days_1_30"),  # 1 day
        (date(2026, 10, 31), "days_1_30"),  # 30 days
        (date(2026, 10, 30), "days_31_60"),  # 31 days
        (date(2026, 10, 1), "days_31_60"),  # 60 days
        (date(2026, 9, 30), "days_61_90"),  # 61 days
        (date(2026, 9, 1), "days_61_90"),  # 90 days
        (date(2026, 8, 31), "days_over_90"),  # 91 days
        (date(2025, 11, 30), "days_over_90"),  # a year
    ],
)
def test_an_invoice_falls_in_the_bucket_of_its_days_past_due(due_date: date, bucket: str) -> None:
    assert bucket_of(due_date, AS_OF) == bucket
    amount = D("119.00")
    expected = {b: D("0.00") for b in BUCKETS} | {bucket: amount}
    invoice = aged(due_date, amount, AS_OF)
    assert {b: invoice.amount(b) for b in BUCKETS} == expected
    assert invoice.total == amount


def test_days_past_due_is_as_of_less_the_due_date() -> None:
    assert days_past_due(date(2026, 10, 31), AS_OF) == 30
    assert days_past_due(date(2026, 12, 5), AS_OF) == -5
    # Across a leap day: 2028-02-29 exists.
    assert days_past_due(date(2028, 2, 1), date(2028, 3, 2)) == 30
    assert bucket_of(date(2028, 2, 1), date(2028, 3, 2)) == "days_1_30"
    assert bucket_of(date(2028, 1, 31), date(2028, 3, 2)) == "days_31_60"


@settings(max_examples=200)
@given(
    as_of=st.one_of(
        st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
        # The ends of the calendar, where a bound 90 days back is no date.
        st.dates(max_value=date(1, 6, 30)),
        st.dates(min_value=date(9999, 6, 1)),
    ),
    days=st.integers(min_value=-400, max_value=400),
)
def test_the_databases_due_date_bounds_sort_as_the_days_do(as_of: date, days: int) -> None:
    """The report buckets in SQL by comparing due dates with `earliest_due_dates`; that
    must agree with counting days."""
    assume(date.min.toordinal() <= as_of.toordinal() - days <= date.max.toordinal())
    due_date = as_of - timedelta(days=days)
    by_bounds = next(
        (bucket for bucket, earliest in earliest_due_dates(as_of) if due_date >= earliest),
        "days_over_90",
    )
    assert by_bounds == bucket_of(due_date, as_of)


def test_the_due_date_bounds_of_the_first_days_of_the_calendar_are_its_first_day() -> None:
    assert earliest_due_dates(date(1, 1, 1)) == [
        ("current", date(1, 1, 1)),
        ("days_1_30", date(1, 1, 1)),
        ("days_31_60", date(1, 1, 1)),
        ("days_61_90", date(1, 1, 1)),
    ]
    assert earliest_due_dates(date(1, 2, 15)) == [
        ("current", date(1, 2, 15)),
        ("days_1_30", date(1, 1, 16)),
        ("days_31_60", date(1, 1, 1)),
        ("days_61_90", date(1, 1, 1)),
    ]


def test_aging_adds_up_per_customer_and_in_total() -> None:
    acme, zeta = uuid.uuid4(), uuid.uuid4()
    customers, totals = aging_report(
        [
            (zeta, "Zeta AG", "days_over_90", D("10.00")),
            (acme, "acme GmbH", "current", D("1190.00")),
            (acme, "acme GmbH", "days_31_60", D("595.50")),
            (zeta, "Zeta AG", "current", D("0.01")),
        ]
    )
    assert [(c.customer_id, c.customer_name) for c in customers] == [
        (acme, "acme GmbH"),
        (zeta, "Zeta AG"),
    ]
    assert customers[0].aging == Aging(current=D("1190.00"), days_31_60=D("595.50"))
    assert customers[0].aging.total == D("1785.50")
    assert customers[1].aging.total == D("10.01")
    assert totals == Aging(current=D("1190.01"), days_31_60=D("595.50"), days_over_90=D("10.00"))
    assert totals.total == D("1795.51")
    assert aging_report([]) == ([], Aging())
    with pytest.raises(ValueError, match="no such bucket"):
        Aging.of({"days_91_120": D("1.00")})


def account(code: str, kind: str, debits: str = "0.00", credits: str = "0.00") -> AccountTotals:
    return AccountTotals(uuid.uuid4(), code, f"Account {code}", kind, D(debits), D(credits))


# Capital 10,000 in cash; a sale of 2,000 + 380 tax on credit; rent 1,500 paid in cash;
# the customer pays 1,190; a refund of 50 in cash debited to revenue; 50 of postage
# booked from cash and reversed.
BOOKS = [
    account("1000", "asset", "11240.00", "1600.00"),  # cash
    account("1200", "asset", "2380.00", "1190.00"),  # receivables
    account("2100", "liability", credits="380.00"),  # tax payable
    account("3000", "equity", credits="10000.00"),
    account("4000", "revenue", "50.00", "2000.00"),
    account("6100", "expense", "1500.00"),
    account("6200", "expense", "50.00", "50.00"),  # booked and reversed: zero balance
]


def test_the_trial_balance_puts_each_balance_on_its_larger_side() -> None:
    report = trial_balance(BOOKS)
    columns = {r.account.code: (r.debit_balance, r.credit_balance) for r in report.rows}
    assert columns == {
        "1000": (D("9640.00"), D("0.00")),
        "1200": (D("1190.00"), D("0.00")),
        "2100": (D("0.00"), D("380.00")),
        "3000": (D("0.00"), D("10000.00")),
        "4000": (D("0.00"), D("1950.00")),
        "6100": (D("1500.00"), D("0.00")),
        "6200": (D("0.00"), D("0.00")),
    }
    assert (report.debit_total, report.credit_total) == (D("15220.00"), D("15220.00"))
    assert (report.debit_balance, report.credit_balance) == (D("12330.00"), D("12330.00"))
    assert report.balanced
    lopsided = trial_balance([account("1000", "asset", "10.00"), account("3000", "equity")])
    assert not lopsided.balanced


def test_profit_and_loss_and_the_balance_sheet_with_current_earnings() -> None:
    pnl = profit_and_loss(BOOKS)
    assert [(line.code, line.amount) for line in pnl.revenue.lines] == [("4000", D("1950.00"))]
    assert [(line.code, line.amount) for line in pnl.expenses.lines] == [
        ("6100", D("1500.00")),
        ("6200", D("0.00")),
    ]
    assert (pnl.revenue.total, pnl.expenses.total, pnl.net_income) == (
        D("1950.00"),
        D("1500.00"),
        D("450.00"),
    )
    sheet = balance_sheet(BOOKS)
    assert sheet.assets.total == D("10830.00")
    assert sheet.liabilities.total == D("380.00")
    assert [(line.name, line.account_id is None, line.amount) for line in sheet.equity.lines] == [
        ("Account 3000", False, D("10000.00")),
        (CURRENT_EARNINGS, True, D("450.00")),
    ]
    assert sheet.current_earnings == D("450.00")
    assert sheet.liabilities_and_equity == D("10830.00")
    assert sheet.balanced
    # A loss is negative earnings; an asset overdrawn is negative on its side.
    loss = balance_sheet(
        [account("1000", "asset", credits="20.00"), account("6100", "expense", "20.00")]
    )
    assert (loss.assets.total, loss.current_earnings, loss.balanced) == (
        D("-20.00"),
        D("-20.00"),
        True,
    )


def test_a_range_must_not_end_before_it_starts() -> None:
    check_range(AS_OF, AS_OF)
    with pytest.raises(RuleViolation) as refused:
        check_range(AS_OF, AS_OF - timedelta(days=1))
    assert refused.value.errors == [
        {"field": "query.date_to", "message": "must be on or after date_from"}
    ]


def test_variance_is_actual_less_budget_on_the_normal_side() -> None:
    rent = account("6100", "expense", "1550.00", "50.00")
    sales = account("4000", "revenue", "100.00", "2100.00")
    idle = BudgetedAccount(uuid.uuid4(), "6300", "Travel", "expense", D("300.00"))
    lines = budget_vs_actual(
        [sales, rent],
        [
            BudgetedAccount(rent.account_id, "6100", "Rent", "expense", D("1500.00")),
            BudgetedAccount(sales.account_id, "4000", "Sales", "revenue", D("2500.00")),
            idle,
        ],
    )
    assert [(line.code, line.budget, line.actual, line.variance) for line in lines] == [
        ("4000", D("2500.00"), D("2000.00"), D("-500.00")),
        ("6100", D("1500.00"), D("1500.00"), D("0.00")),
        ("6300", D("300.00"), D("0.00"), D("-300.00")),
    ]
    unplanned = budget_vs_actual([rent], [])
    assert [(line.budget, line.actual, line.variance) for line in unplanned] == [
        (D("0.00"), D("1500.00"), D("1500.00"))
    ]


@pytest.mark.parametrize(
    ("name", "first_day", "last_day", "months"),
    [
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30), ["2026-11"]),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29), ["2028-02"]),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), ["2026-10", "2026-11", "2026-12"]),
        ("0001", date(1, 1, 1), date(1, 12, 31), [f"0001-{m:02d}" for m in range(1, 13)]),
        ("0001-01", date(1, 1, 1), date(1, 1, 31), ["0001-01"]),
        # The last month of the calendar has no month after it to count back from.
        ("9999", date(9999, 1, 1), date.max, [f"9999-{m:02d}" for m in range(1, 13)]),
        ("9999-Q4", date(9999, 10, 1), date.max, ["9999-10", "9999-11", "9999-12"]),
        ("9999-12", date(9999, 12, 1), date.max, ["9999-12"]),
    ],
)
def test_a_period_is_its_first_and_last_day_and_its_months(
    name: str, first_day: date, last_day: date, months: list[str]
) -> None:
    period = parse_period(name)
    assert (period.name, period.first_day, period.last_day) == (name, first_day, last_day)
    assert period.months == months


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("0000", "the year is from 0001 to 9999"),
        ("0000-01", "the year is from 0001 to 9999"),
        ("0000-Q4", "the year is from 0001 to 9999"),
        ("2026-Q5", "a month (2026-11), quarter (2026-Q4) or year (2026)"),
        ("2026\n", "a month (2026-11), quarter (2026-Q4) or year (2026)"),
        ("\uff12\uff10\uff12\uff16", "a month (2026-11), quarter (2026-Q4) or year (2026)"),
    ],
)
def test_what_is_not_a_period_is_refused_naming_the_field(name: str, message: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        parse_period(name)
    assert refused.value.errors == [{"field": "query.period", "message": message}]
