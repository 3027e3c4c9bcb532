"""The arithmetic of financial reports: trial balance, profit and loss, balance sheet,
budget against actual, and the aging of receivables. Given account totals the database
summed, it arranges them; it reads nothing itself."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from erp.domain.ledger import (
    ASSET,
    EQUITY,
    EXPENSE,
    LIABILITY,
    REVENUE,
    balance_of,
)
from shared_schemas.domain import RuleViolation
from shared_schemas.money import ZERO


@dataclass(frozen=True)
class AccountTotals:
    """What one account was debited and credited in total over some dates."""

    account_id: uuid.UUID
    code: str
    name: str
    type: str
    debits: Decimal = ZERO
    credits: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        """The balance on the account's normal side (negative when on the other side)."""
        return balance_of(self.type, self.debits, self.credits)


def check_range(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise RuleViolation(
            "The range ends before it starts.",
            [{"field": "query.date_to", "message": "must be on or after date_from"}],
        )


# Trial balance


@dataclass(frozen=True)
class TrialBalanceRow:
    account: AccountTotals
    debit_balance: Decimal
    credit_balance: Decimal


@dataclass(frozen=True)
class TrialBalance:
    rows: list[TrialBalanceRow]
    debit_total: Decimal
    credit_total: Decimal
    debit_balance: Decimal
    credit_balance: Decimal

    @property
    def balanced(self) -> bool:
        return self.debit_total == self.credit_total and self.debit_balance == self.credit_balance


def trial_balance(accounts: Iterable[AccountTotals]) -> TrialBalance:
    """Each account's totals and its balance in the debit or the credit column (whichever
    side is larger, whatever the account's normal side), and the column totals."""
    rows = []
    for account in accounts:
        net = account.debits - account.credits
        rows.append(
            TrialBalanceRow(account, debit_balance=max(net, ZERO), credit_balance=max(-net, ZERO))
        )
    return TrialBalance(
        rows=rows,
        debit_total=sum((row.account.debits for row in rows), ZERO),
        credit_total=sum((row.account.credits for row in rows), ZERO),
        debit_balance=sum((row.debit_balance for row in rows), ZERO),
        credit_balance=sum((row.credit_balance for row in rows), ZERO),
    )


# Sections: profit and loss, balance sheet


@dataclass(frozen=True)
class SectionLine:
    """An account's amount on its section's side, or a computed line (no account)."""

    name: str
    amount: Decimal
    account_id: uuid.UUID | None = None
    code: str | None = None


@dataclass(frozen=True)
class Section:
    lines: list[SectionLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


def section(accounts: Iterable[AccountTotals], account_type: str) -> Section:
    """The accounts of one type with their balances on that type's normal side."""
    return Section(
        [
            SectionLine(a.name, a.balance, a.account_id, a.code)
            for a in accounts
            if a.type == account_type
        ]
    )


@dataclass(frozen=True)
class ProfitAndLoss:
    revenue: Section
    expenses: Section

    @property
    def net_income(self) -> Decimal:
        return self.revenue.total - self.expenses.total


def profit_and_loss(accounts: Sequence[AccountTotals]) -> ProfitAndLoss:
    return ProfitAndLoss(section(accounts, REVENUE), section(accounts, EXPENSE))


CURRENT_EARNINGS = "Current earnings"


@dataclass(frozen=True)
class BalanceSheet:
    assets: Section
    liabilities: Section
    equity: Section
    current_earnings: Decimal

    @property
    def liabilities_and_equity(self) -> Decimal:
        return self.liabilities.total + self.equity.total

    @property
    def balanced(self) -> bool:
        return self.assets.total == self.liabilities_and_equity


def balance_sheet(accounts: Sequence[AccountTotals]) -> BalanceSheet:
    """Assets, liabilities and equity at their balances; with no closing entries, the
    revenue less expenses of every entry so far is equity too, as its last line."""
    earnings = profit_and_loss(accounts).net_income
    equity = Section([*section(accounts, EQUITY).lines, SectionLine(CURRENT_EARNINGS, earnings)])
    return BalanceSheet(section(accounts, ASSET), section(accounts, LIABILITY), equity, earnings)


# Budget against actual


@dataclass(frozen=True)
class BudgetComparison:
    """`actual` is the account's net movement in the period on its normal side; a
    positive variance is more than budgeted (good for revenue, bad for an expense)."""

    account_id: uuid.UUID
    code: str
    name: str
    type: str
    budget: Decimal
    actual: Decimal

    @property
    def variance(self) -> Decimal:
        return self.actual - self.budget


@dataclass(frozen=True)
class BudgetedAccount:
    account_id: uuid.UUID
    code: str
    name: str
    type: str
    budget: Decimal


def budget_vs_actual(
    actuals: Iterable[AccountTotals], budgets: Iterable[BudgetedAccount]
) -> list[BudgetComparison]:
    """One line per account with a budget or a movement in the period, by code."""
    planned = {b.account_id: b for b in budgets}
    moved = {a.account_id: a for a in actuals}
    lines = []
    for account_id in planned.keys() | moved.keys():
        actual = moved.get(account_id)
        budget = planned.get(account_id)
        about = actual or budget
        assert about is not None
        lines.append(
            BudgetComparison(
                account_id,
                about.code,
                about.name,
                about.type,
                budget=budget.budget if budget else ZERO,
                actual=actual.balance if actual else ZERO,
            )
        )
    return sorted(lines, key=lambda line: (line.code, str(line.account_id)))


# Aging of receivables

CURRENT = "current"
BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
# The last day past due each bucket holds (none for the last).
_BUCKET_ENDS = ((CURRENT, 0), ("days_1_30", 30), ("days_31_60", 60), ("days_61_90", 90))
OVER_90 = "days_over_90"


def days_past_due(due_date: date, as_of: date) -> int:
    """Negative or zero while not yet due: an invoice due today is current."""
    return (as_of - due_date).days


def bucket_of(due_date: date, as_of: date) -> str:
    days = days_past_due(due_date, as_of)
    for bucket, last_day in _BUCKET_ENDS:
        if days <= last_day:
            return bucket
    return OVER_90


def earliest_due_dates(as_of: date) -> list[tuple[str, date]]:
    """Each bucket but the last with the earliest due date it holds on `as_of`, in bucket
    order: a due date belongs to the first bucket whose earliest date it is not before
    (how the database sorts invoices into buckets, the same rule as `bucket_of`).

    Near the first day of the calendar a bound before it is that first day: no due date
    is earlier, so the bucket holds the same invoices."""
    return [
        (bucket, date.fromordinal(max(as_of.toordinal() - last_day, date.min.toordinal())))
        for bucket, last_day in _BUCKET_ENDS
    ]


@dataclass(frozen=True)
class Aging:
    """Amounts due by how far past due they are."""

    current: Decimal = ZERO
    days_1_30: Decimal = ZERO
    days_31_60: Decimal = ZERO
    days_61_90: Decimal = ZERO
    days_over_90: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum((self.amount(bucket) for bucket in BUCKETS), ZERO)

    def amount(self, bucket: str) -> Decimal:
        value: Decimal = getattr(self, bucket)
        return value

    def __add__(self, other: Aging) -> Aging:
        return Aging(**{b: self.amount(b) + other.amount(b) for b in BUCKETS})

    @staticmethod
    def of(amounts: Mapping[str, Decimal]) -> Aging:
        unknown = set(amounts) - set(BUCKETS)
        if unknown:
            raise ValueError(f"no such bucket: {', '.join(sorted(unknown))}")
        return Aging(**amounts)


def aged(due_date: date, amount_due: Decimal, as_of: date) -> Aging:
    """One invoice's amount due in its bucket on `as_of`."""
    return Aging.of({bucket_of(due_date, as_of): amount_due})


@dataclass(frozen=True)
class CustomerAging:
    customer_id: uuid.UUID
    customer_name: str
    aging: Aging


def aging_report(
    amounts: Iterable[tuple[uuid.UUID, str, str, Decimal]],
) -> tuple[list[CustomerAging], Aging]:
    """Per customer, from (customer_id, customer_name, bucket, amount) sums, the aging,
    customers by name; and the grand totals."""
    names: dict[uuid.UUID, str] = {}
    by_customer: dict[uuid.UUID, Aging] = {}
    for customer_id, name, bucket, amount in amounts:
        names.setdefault(customer_id, name)
        by_customer[customer_id] = by_customer.get(customer_id, Aging()) + Aging.of(
            {bucket: amount}
        )
    customers = sorted(
        (CustomerAging(c, names[c], aging) for c, aging in by_customer.items()),
        key=lambda row: (row.customer_name.casefold(), str(row.customer_id)),
    )
    grand = sum((row.aging for row in customers), Aging())
    return customers, grand
