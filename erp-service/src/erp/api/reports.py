"""`/reports`: trial balance, profit and loss, balance sheet, receivables aging and budget
against actual, in the company's currency, read from the journal as posted."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from erp.api.budgets import YEAR_PATTERN
from erp.api.deps import UnitOfWorkDep
from erp.domain.reports import Aging, Section
from erp.service import reports
from shared_schemas.http.json_types import Day
from shared_schemas.identity import Access, Authorize
from shared_schemas.money import Money

router = APIRouter(prefix="/reports", tags=["reports"])

ReadAccess = Annotated[Access, Depends(Authorize("erp", "reports", "read"))]

AccountType = Literal["asset", "liability", "equity", "revenue", "expense"]
PERIOD_PATTERN = f"^{YEAR_PATTERN}(-(0[1-9]|1[0-2])|-Q[1-4])?$"

AsOf = Annotated[Day | None, Query(description="The last day counted (inclusive); default: today.")]

RENT_ID = "0b4a4f0e-3c2d-4d7b-9a57-2f4f0f6f1c01"
CASH_ID = "0b4a4f0e-3c2d-4d7b-9a57-2f4f0f6f1c02"
EQUITY_ID = "0b4a4f0e-3c2d-4d7b-9a57-2f4f0f6f1c03"
REVENUE_ID = "0b4a4f0e-3c2d-4d7b-9a57-2f4f0f6f1c04"


class TrialBalanceLine(BaseModel):
    account_id: uuid.UUID
    code: str
    name: str
    type: AccountType
    debit_total: Money = Field(description="Every debit to the account up to `as_of`.")
    credit_total: Money = Field(description="Every credit to the account up to `as_of`.")
    debit_balance: Money = Field(description="Debits less credits when more was debited.")
    credit_balance: Money = Field(description="Credits less debits when more was credited.")


class TrialBalanceTotals(BaseModel):
    debit_total: Money
    credit_total: Money
    debit_balance: Money
    credit_balance: Money


class TrialBalanceOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "as_of": "2026-11-30",
                    "currency": "EUR",
                    "accounts": [
                        {
                            "account_id": CASH_ID,
                            "code": "1000",
                            "name": "Cash",
                            "type": "asset",
                            "debit_total": "10000.00",
                            "credit_total": "1500.00",
                            "debit_balance": "8500.00",
                            "credit_balance": "0.00",
                        },
                        {
                            "account_id": EQUITY_ID,
                            "code": "3000",
                            "name": "Owner's equity",
                            "type": "equity",
                            "debit_total": "0.00",
                            "credit_total": "10000.00",
                            "debit_balance": "0.00",
                            "credit_balance": "10000.00",
                        },
                        {
                            "account_id": RENT_ID,
                            "code": "6100",
                            "name": "Rent",
                            "type": "expense",
                            "debit_total": "1500.00",
                            "credit_total": "0.00",
                            "debit_balance": "1500.00",
                            "credit_balance": "0.00",
                        },
                    ],
                    "totals": {
                        "debit_total": "11500.00",
                        "credit_total": "11500.00",
                        "debit_balance": "10000.00",
                        "credit_balance": "10000.00",
                    },
                    "balanced": True,
                }
            ]
        }
    )

    as_of: date
    currency: str
    accounts: list[TrialBalanceLine] = Field(description="By account code.")
    totals: TrialBalanceTotals
    balanced: bool = Field(description="Debits equal credits, as every posted entry ensures.")


class ReportLine(BaseModel):
    account_id: uuid.UUID | None = Field(description="Null on a computed line.")
    code: str | None
    name: str
    amount: Money = Field(description="On the section's normal side; negative on the other.")


class ReportSection(BaseModel):
    lines: list[ReportLine]
    total: Money


SECTION_EXAMPLE: dict[str, JsonValue] = {
    "lines": [{"account_id": REVENUE_ID, "code": "4000", "name": "Sales", "amount": "2000.00"}],
    "total": "2000.00",
}


class ProfitAndLossOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "date_from": "2026-11-01",
                    "date_to": "2026-11-30",
                    "currency": "EUR",
                    "revenue": SECTION_EXAMPLE,
                    "expenses": {
                        "lines": [
                            {
                                "account_id": RENT_ID,
                                "code": "6100",
                                "name": "Rent",
                                "amount": "1500.00",
                            }
                        ],
                        "total": "1500.00",
                    },
                    "net_income": "500.00",
                }
            ]
        }
    )

    date_from: date
    date_to: date
    currency: str
    revenue: ReportSection
    expenses: ReportSection
    net_income: Money = Field(description="Revenue less expenses; negative for a loss.")


class BalanceSheetOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "as_of": "2026-11-30",
                    "currency": "EUR",
                    "assets": {
                        "lines": [
                            {
                                "account_id": CASH_ID,
                                "code": "1000",
                                "name": "Cash",
                                "amount": "10500.00",
                            }
                        ],
                        "total": "10500.00",
                    },
                    "liabilities": {"lines": [], "total": "0.00"},
                    "equity": {
                        "lines": [
                            {
                                "account_id": EQUITY_ID,
                                "code": "3000",
                                "name": "Owner's equity",
                                "amount": "10000.00",
                            },
                            {
                                "account_id": None,
                                "code": None,
                                "name": "Current earnings",
                                "amount": "500.00",
                            },
                        ],
                        "total": "10500.00",
                    },
                    "liabilities_and_equity": "10500.00",
                    "balanced": True,
                }
            ]
        }
    )

    as_of: date
    currency: str
    assets: ReportSection
    liabilities: ReportSection
    equity: ReportSection = Field(
        description="Its last line, `Current earnings` (no account), is revenue less expenses "
        "of every entry up to `as_of`: no closing entry moves them into equity."
    )
    liabilities_and_equity: Money
    balanced: bool = Field(description="Assets equal liabilities plus equity.")


class AgingAmounts(BaseModel):
    current: Money = Field(description="Not yet past the due date (due on `as_of` included).")
    days_1_30: Money
    days_31_60: Money
    days_61_90: Money
    days_over_90: Money
    total: Money


class CustomerAgingOut(AgingAmounts):
    customer_id: uuid.UUID
    customer_name: str


AGING_EXAMPLE: dict[str, JsonValue] = {
    "current": "1190.00",
    "days_1_30": "0.00",
    "days_31_60": "595.00",
    "days_61_90": "0.00",
    "days_over_90": "0.00",
    "total": "1785.00",
}


class ArAgingOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "as_of": "2026-11-30",
                    "currency": "EUR",
                    "customers": [
                        {
                            "customer_id": "5d3c2b1a-0f9e-4d8c-b7a6-958473625140",
                            "customer_name": "Acme GmbH",
                            **AGING_EXAMPLE,
                        }
                    ],
                    "totals": AGING_EXAMPLE,
                }
            ]
        }
    )

    as_of: date
    currency: str
    customers: list[CustomerAgingOut] = Field(description="By name.")
    totals: AgingAmounts


class BudgetLine(BaseModel):
    account_id: uuid.UUID
    code: str
    name: str
    type: AccountType
    budget: Money = Field(description="The account's monthly budgets in the period, summed.")
    actual: Money = Field(description="The net movement in the period on the normal side.")
    variance: Money = Field(description="Actual less budget.")


class BudgetVsActualOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "period": "2026-Q4",
                    "date_from": "2026-10-01",
                    "date_to": "2026-12-31",
                    "currency": "EUR",
                    "accounts": [
                        {
                            "account_id": RENT_ID,
                            "code": "6100",
                            "name": "Rent",
                            "type": "expense",
                            "budget": "4500.00",
                            "actual": "4650.00",
                            "variance": "150.00",
                        }
                    ],
                }
            ]
        }
    )

    period: str
    date_from: date
    date_to: date
    currency: str
    accounts: list[BudgetLine] = Field(description="By account code.")


BAD_INPUT: dict[int | str, dict[str, Any]] = {
    422: {"description": "A malformed date or period, or a range ending before it starts"}
}


@router.get(
    "/trial-balance",
    summary="Trial balance: each account's debits, credits and balance up to a day",
    description="Every account with at least one line dated up to `as_of`, also when its "
    "debits and credits cancel out (a zero balance); accounts never posted to are left out. "
    "The balance stands in the debit or the credit column, whichever side is larger.",
    responses=BAD_INPUT,
)
async def get_trial_balance(
    _access: ReadAccess, uow: UnitOfWorkDep, as_of: AsOf = None
) -> TrialBalanceOut:
    when, report = await reports.trial_balance_as_of(uow, as_of)
    return TrialBalanceOut(
        as_of=when,
        currency=uow.settings.company.currency,
        accounts=[
            TrialBalanceLine(
                account_id=row.account.account_id,
                code=row.account.code,
                name=row.account.name,
                type=row.account.type,
                debit_total=row.account.debits,
                credit_total=row.account.credits,
                debit_balance=row.debit_balance,
                credit_balance=row.credit_balance,
            )
            for row in report.rows
        ],
        totals=TrialBalanceTotals(
            debit_total=report.debit_total,
            credit_total=report.credit_total,
            debit_balance=report.debit_balance,
            credit_balance=report.credit_balance,
        ),
        balanced=report.balanced,
    )


@router.get(
    "/profit-and-loss",
    summary="Profit and loss: revenue, expenses and net income between two days",
    description="Revenue and expense accounts with a line dated in the range (both days "
    "included), each at its net movement on its normal side.",
    responses=BAD_INPUT,
)
async def get_profit_and_loss(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    date_from: Annotated[Day, Query(description="The first day counted.")],
    date_to: Annotated[Day, Query(description="The last day counted; not before date_from.")],
) -> ProfitAndLossOut:
    report = await reports.profit_and_loss_between(uow, date_from, date_to)
    return ProfitAndLossOut(
        date_from=date_from,
        date_to=date_to,
        currency=uow.settings.company.currency,
        revenue=_section(report.revenue),
        expenses=_section(report.expenses),
        net_income=report.net_income,
    )


@router.get(
    "/balance-sheet",
    summary="Balance sheet: assets, liabilities and equity on a day",
    description="Accounts with a line dated up to `as_of`, each at its balance on its normal "
    "side, and the current earnings (revenue less expenses so far) as equity.",
    responses=BAD_INPUT,
)
async def get_balance_sheet(
    _access: ReadAccess, uow: UnitOfWorkDep, as_of: AsOf = None
) -> BalanceSheetOut:
    when, report = await reports.balance_sheet_as_of(uow, as_of)
    return BalanceSheetOut(
        as_of=when,
        currency=uow.settings.company.currency,
        assets=_section(report.assets),
        liabilities=_section(report.liabilities),
        equity=_section(report.equity),
        liabilities_and_equity=report.liabilities_and_equity,
        balanced=report.balanced,
    )


@router.get(
    "/ar-aging",
    summary="Receivables aging: what each customer owes, by days past due",
    description="Invoices issued on or before `as_of` and not voided by then, each at what "
    "was due on `as_of` (total less the payments received on or before it), in the bucket of "
    "its days past due on `as_of` (`as_of` less the due date): current (not past due), 1-30, "
    "31-60, 61-90, over 90. Payments and voids are counted on the days they were booked, so "
    "the total equals the receivables account in the balance sheet of the same day.",
    responses=BAD_INPUT,
)
async def get_ar_aging(_access: ReadAccess, uow: UnitOfWorkDep, as_of: AsOf = None) -> ArAgingOut:
    when, customers, totals = await reports.receivables_aging(uow, as_of)
    return ArAgingOut(
        as_of=when,
        currency=uow.settings.company.currency,
        customers=[
            CustomerAgingOut(
                customer_id=row.customer_id,
                customer_name=row.customer_name,
                **_aging(row.aging).model_dump(),
            )
            for row in customers
        ],
        totals=_aging(totals),
    )


@router.get(
    "/budget-vs-actual",
    summary="Budget against actual per account for a month, quarter or year",
    description="Every account with a budget in the period or a line dated in it.",
    responses={
        422: {"description": "Not a period: `2026-11`, `2026-Q4` or `2026`, years 0001 to 9999"}
    },
)
async def get_budget_vs_actual(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    period: Annotated[
        str,
        Query(
            max_length=7,
            # Documented, and read by `reports.budget_against_actual`, whose refusals say
            # what is wrong (a year 0000, a month 13) where a pattern's would not.
            json_schema_extra={"pattern": PERIOD_PATTERN},
            description="A month (2026-11), quarter (2026-Q4) or year.",
        ),
    ],
) -> BudgetVsActualOut:
    span, lines = await reports.budget_against_actual(uow, period)
    return BudgetVsActualOut(
        period=span.name,
        date_from=span.first_day,
        date_to=span.last_day,
        currency=uow.settings.company.currency,
        accounts=[
            BudgetLine(
                account_id=line.account_id,
                code=line.code,
                name=line.name,
                type=line.type,
                budget=line.budget,
                actual=line.actual,
                variance=line.variance,
            )
            for line in lines
        ],
    )


def _section(section: Section) -> ReportSection:
    return ReportSection(
        lines=[
            ReportLine(
                account_id=line.account_id, code=line.code, name=line.name, amount=line.amount
            )
            for line in section.lines
        ],
        total=section.total,
    )


def _aging(aging: Aging) -> AgingAmounts:
    return AgingAmounts(
        current=aging.current,
        days_1_30=aging.days_1_30,
        days_31_60=aging.days_31_60,
        days_61_90=aging.days_61_90,
        days_over_90=aging.days_over_90,
        total=aging.total,
    )
