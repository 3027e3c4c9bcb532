"""Financial reports read from the journal, the budgets and the open invoices: the
database sums per account (or per customer and bucket), the domain arranges the sums."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from erp.adapters.finance import Account, Budget, Invoice, JournalEntry, JournalLine, Payment
from erp.adapters.replicas import CustomerReplica
from erp.domain.ledger import EXPENSE, REVENUE, Period, parse_period
from erp.domain.reports import (
    OVER_90,
    AccountTotals,
    Aging,
    BalanceSheet,
    BudgetComparison,
    BudgetedAccount,
    CustomerAging,
    ProfitAndLoss,
    TrialBalance,
    aging_report,
    balance_sheet,
    budget_vs_actual,
    check_range,
    earliest_due_dates,
    profit_and_loss,
    trial_balance,
)
from erp.service.invoices import INVOICE_VOID
from erp.service.ledger import today
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.database import from_cents, sum_in_cents


async def account_totals(
    session: AsyncSession,
    *,
    date_to: date,
    date_from: date | None = None,
    types: Collection[str] | None = None,
) -> list[AccountTotals]:
    """Per account with a line dated in the range, its debits and credits, by code."""
    conditions = [JournalLine.entry_date <= date_to]
    if date_from is not None:
        conditions.append(JournalLine.entry_date >= date_from)
    sums = (
        select(
            JournalLine.account_id,
            sum_in_cents(JournalLine.debit).label("debits"),
            sum_in_cents(JournalLine.credit).label("credits"),
        )
        .where(and_(*conditions))
        .group_by(JournalLine.account_id)
        .subquery()
    )
    query = (
        select(Account.id, Account.code, Account.name, Account.type, sums.c.debits, sums.c.credits)
        .join(sums, sums.c.account_id == Account.id)
        .order_by(Account.code)
    )
    if types is not None:
        query = query.where(Account.type.in_(types))
    rows = await session.execute(query)
    return [
        AccountTotals(account_id, code, name, kind, from_cents(debits), from_cents(credits))
        for account_id, code, name, kind, debits, credits in rows
    ]


async def trial_balance_as_of(uow: UnitOfWork, as_of: date | None) -> tuple[date, TrialBalance]:
    async with uow:
        when = as_of or today(uow)
        return when, trial_balance(await account_totals(uow.session, date_to=when))


async def profit_and_loss_between(uow: UnitOfWork, date_from: date, date_to: date) -> ProfitAndLoss:
    check_range(date_from, date_to)
    async with uow:
        totals = await account_totals(
            uow.session, date_from=date_from, date_to=date_to, types=(REVENUE, EXPENSE)
        )
    return profit_and_loss(totals)


async def balance_sheet_as_of(uow: UnitOfWork, as_of: date | None) -> tuple[date, BalanceSheet]:
    async with uow:
        when = as_of or today(uow)
        return when, balance_sheet(await account_totals(uow.session, date_to=when))


async def budget_against_actual(
    uow: UnitOfWork, period_name: str
) -> tuple[Period, list[BudgetComparison]]:
    period = parse_period(period_name)
    async with uow:
        session = uow.session
        actuals = await account_totals(session, date_from=period.first_day, date_to=period.last_day)
        rows = await session.execute(
            select(
                Account.id,
                Account.code,
                Account.name,
                Account.type,
                sum_in_cents(Budget.amount),
            )
            .join(Budget, Budget.account_id == Account.id)
            .where(Budget.month.in_(period.months))
            .group_by(Account.id, Account.code, Account.name, Account.type)
        )
        budgets = [
            BudgetedAccount(account_id, code, name, kind, from_cents(amount))
            for account_id, code, name, kind, amount in rows
        ]
    return period, budget_vs_actual(actuals, budgets)


async def receivables_aging(
    uow: UnitOfWork, as_of: date | None
) -> tuple[date, list[CustomerAging], Aging]:
    """What customers owed on `as_of` on the invoices issued by then, by how many days
    past due each invoice was on that day: each invoice's total less the payments
    received by then, leaving out invoices voided by then. So the aging of any day adds
    up to the receivables account on that day."""
    async with uow:
        when = as_of or today(uow)
        rows = await _owed_by_bucket(uow.session, when)
    customers, totals = aging_report(rows)
    return when, customers, totals


async def _owed_by_bucket(
    session: AsyncSession, as_of: date
) -> list[tuple[uuid.UUID, str, str, Decimal]]:
    bucket = case(
        *((Invoice.due_date >= earliest, name) for name, earliest in earliest_due_dates(as_of)),
        else_=OVER_90,
    )
    # Payments count from the day received, a void from the date of its reversing entry:
    # the days the receivables account moved, so the aging agrees with it on every day.
    paid = (
        select(Payment.invoice_id, sum_in_cents(Payment.amount).label("cents"))
        .where(Payment.received_on <= as_of)
        .group_by(Payment.invoice_id)
        .subquery("paid")
    )
    voided = select(JournalEntry.source_id).where(
        JournalEntry.source_type == INVOICE_VOID,
        JournalEntry.source_id.is_not(None),
        JournalEntry.entry_date <= as_of,
    )
    due_cents = cast(func.round(Invoice.total * 100), BigInteger) - func.coalesce(paid.c.cents, 0)
    # Bucketed in a subquery: PostgreSQL would not see a parameterised CASE in the select
    # list and the same one in GROUP BY as one expression.
    owed = (
        select(
            Invoice.customer_id,
            Invoice.customer_name,
            bucket.label("bucket"),
            due_cents.label("due_cents"),
        )
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .where(Invoice.issued_on <= as_of, due_cents > 0, Invoice.id.not_in(voided))
        .subquery()
    )
    # The customer's name as CRM last reported it, else as the invoices carry it.
    name = func.max(func.coalesce(CustomerReplica.name, owed.c.customer_name))
    rows = await session.execute(
        select(owed.c.customer_id, name, owed.c.bucket, func.sum(owed.c.due_cents))
        .outerjoin(CustomerReplica, CustomerReplica.id == owed.c.customer_id)
        .group_by(owed.c.customer_id, owed.c.bucket)
    )
    return [
        (customer_id, customer_name, bucket_name, from_cents(amount))
        for customer_id, customer_name, bucket_name, amount in rows
    ]
