"""Double-entry bookkeeping: account types and their normal side, balanced entries,
reversals, and the periods reports and budgets speak of."""

from __future__ import annotations

import re
import uuid
from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import MINYEAR, date
from decimal import Decimal

from shared_schemas.domain import RuleViolation
from shared_schemas.money import ZERO

ASSET, LIABILITY, EQUITY, REVENUE, EXPENSE = "asset", "liability", "equity", "revenue", "expense"
ACCOUNT_TYPES = (ASSET, LIABILITY, EQUITY, REVENUE, EXPENSE)
DEBIT_NORMAL = frozenset({ASSET, EXPENSE})
"""Accounts whose balance is debits minus credits; the others' is credits minus debits."""

# The accounts the system posts to, by their key in the chart (seeded by migration).
CASH = "cash"
BANK = "bank"
RECEIVABLES = "receivables"
INVENTORY = "inventory"
PAYABLES = "payables"
TAX_PAYABLE = "tax_payable"
EQUITY_ACCOUNT = "equity"
REVENUE_ACCOUNT = "revenue"
COGS = "cogs"
INVENTORY_ADJUSTMENT = "inventory_adjustment"
INVENTORY_REVALUATION = "inventory_revaluation"
SALARIES_EXPENSE = "salaries_expense"

SUB_LEDGER_ACCOUNTS = {
    INVENTORY: "stock movements, cost changes and shipments",
    RECEIVABLES: "invoices, voids and payments",
}
"""Control accounts whose balance a sub-ledger owns (units on hand at standard cost, what
unpaid invoices ask), by system key, with the documents that alone post to them. A manual
entry to one would make it disagree with its sub-ledger for good."""

MAX_LINES = 200


@dataclass(frozen=True)
class Posting:
    """One line of an entry: an account (by id, or by system key) debited or credited."""

    account: uuid.UUID | str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    description: str | None = None

    @staticmethod
    def dr(account: uuid.UUID | str, amount: Decimal, description: str | None = None) -> Posting:
        return Posting(account, debit=amount, description=description)

    @staticmethod
    def cr(account: uuid.UUID | str, amount: Decimal, description: str | None = None) -> Posting:
        return Posting(account, credit=amount, description=description)


def balance_of(account_type: str, debits: Decimal, credits: Decimal) -> Decimal:
    """An account's balance on its normal side."""
    return debits - credits if account_type in DEBIT_NORMAL else credits - debits


def check_balanced(lines: Sequence[Posting]) -> Decimal:
    """The entry's total; refused unless every line is one positive amount in cents and
    the debits equal the credits (errors name the line)."""
    errors: list[dict[str, str]] = []
    if len(lines) < 2:
        errors.append({"field": "lines", "message": "an entry has at least two lines"})
    if len(lines) > MAX_LINES:
        errors.append({"field": "lines", "message": f"at most {MAX_LINES} lines"})
    for index, line in enumerate(lines):
        field = f"lines.{index}"
        if line.debit < 0 or line.credit < 0:
            errors.append({"field": field, "message": "amounts are never negative"})
        elif (line.debit == 0) == (line.credit == 0):
            errors.append({"field": field, "message": "either a debit or a credit, not both"})
        for amount in (line.debit, line.credit):
            if amount != amount.quantize(Decimal("0.01")):
                errors.append({"field": field, "message": "amounts are in cents"})
    if errors:
        raise RuleViolation("The entry's lines are not valid.", errors)
    debits = sum((line.debit for line in lines), ZERO)
    credits = sum((line.credit for line in lines), ZERO)
    if debits != credits:
        raise RuleViolation(
            "The entry does not balance.",
            [
                {
                    "field": "lines",
                    "message": f"debits {debits:.2f} must equal credits {credits:.2f}",
                }
            ],
        )
    return debits


def without_zero_lines(lines: Sequence[Posting]) -> list[Posting]:
    """Automatic entries leave out lines of nothing (a tax-free invoice's tax line)."""
    return [line for line in lines if line.debit or line.credit]


def reversal_of(lines: Sequence[Posting]) -> list[Posting]:
    """The lines that undo `lines`: every debit becomes a credit of the same account."""
    return [
        Posting(line.account, debit=line.credit, credit=line.debit, description=line.description)
        for line in lines
    ]


@dataclass(frozen=True)
class Period:
    """A month (`2026-11`), quarter (`2026-Q4`) or year (`2026`): its first and last day
    and the months (`YYYY-MM`) budgets are set for."""

    name: str
    first_day: date
    last_day: date

    @property
    def months(self) -> list[str]:
        # Counted within the period's one year, not stepped until past last_day: the
        # month after 9999-12 is no date.
        year = self.first_day.year
        return [
            f"{year:04d}-{month:02d}"
            for month in range(self.first_day.month, self.last_day.month + 1)
        ]


# ASCII digits only: `\d` would take other scripts' digits too.
_PERIOD = re.compile(r"([0-9]{4})(?:-(?:(0[1-9]|1[0-2])|Q([1-4])))?")


def parse_period(name: str) -> Period:
    """Any month, quarter or year of the calendar (years 0001 to 9999); else a 422 on
    `query.period`."""
    matched = _PERIOD.fullmatch(name)
    if matched is None:
        raise RuleViolation(
            f"{name!r} is not a period.",
            [
                {
                    "field": "query.period",
                    "message": "a month (2026-11), quarter (2026-Q4) or year (2026)",
                }
            ],
        )
    if int(matched.group(1)) < MINYEAR:
        raise RuleViolation(
            f"{name!r} is not a period: there is no year 0000.",
            [{"field": "query.period", "message": "the year is from 0001 to 9999"}],
        )
    year = int(matched.group(1))
    if matched.group(2):
        first_month = last_month = int(matched.group(2))
    elif matched.group(3):
        last_month = int(matched.group(3)) * 3
        first_month = last_month - 2
    else:
        first_month, last_month = 1, 12
    return Period(name, date(year, first_month, 1), _month_end(year, last_month))


def _month_end(year: int, month: int) -> date:
    # From the month's length, not the next month's first day: 9999-12 has none.
    return date(year, month, monthrange(year, month)[1])
