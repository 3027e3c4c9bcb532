"""Use cases of budgets: the amount planned for an account in a month, set (created or
replaced), listed and removed."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import MINYEAR
from decimal import Decimal

from sqlalchemy import and_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from erp.adapters.finance import Account, Budget
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.domain import NotFound, RuleViolation, StaleVersion
from shared_schemas.http.pagination import Page
from shared_schemas.listing import Listing, SortKey

LISTING = Listing(fields={"month": SortKey(Budget.month)}, id_column=Budget.id, default="month")


_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


def check_month(month: str, field: str) -> None:
    """`YYYY-MM` of a year from 0001 and nothing else (a quarter or a year is a period, not
    a month): only months the reports can ask for."""
    matched = _MONTH.fullmatch(month)
    if matched is None or int(matched.group(1)) < MINYEAR:
        raise RuleViolation(
            f"{month!r} is not a month.", [{"field": field, "message": "a month: 2026-11"}]
        )


@dataclass(frozen=True)
class BudgetSet:
    budget: Budget
    created: bool


@dataclass(frozen=True)
class Precondition:
    """An `If-Match` the change depends on: the budget exists (`*`), at `version` if named.
    Without one (None) a budget is created or replaced whatever it was."""

    version: int | None


async def set_budget(
    uow: UnitOfWork,
    account_id: uuid.UUID,
    month: str,
    amount: Decimal,
    precondition: Precondition | None = None,
) -> BudgetSet:
    """Create the month's budget of the account, or replace its amount. Concurrent first
    settings of the same month meet on the unique (account, month) index: one inserts, the
    other replaces; a budget removed meanwhile is set anew. With a precondition only the
    budget as the client read it is replaced (412 otherwise), so of two people changing it
    the second learns of the first."""
    check_month(month, "path.month")
    async with uow:
        session = uow.session
        account = await session.get(Account, account_id)
        if account is None:
            raise NotFound("account", account_id)
        if not account.active:
            raise RuleViolation(
                "Budgets are set for active accounts of the chart.",
                [{"field": "path.account_id", "message": "inactive account"}],
            )
        if precondition is not None:
            expected = await _budget_as_expected(session, account_id, month, precondition)
            if expected.amount != amount:
                expected.amount = amount
                await session.flush()
            return BudgetSet(expected, created=False)
        now = uow.now()
        insert = (
            postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        )
        while True:
            inserted = await session.scalar(
                insert(Budget)
                .values(
                    id=uuid.uuid4(),
                    account_id=account_id,
                    month=month,
                    amount=amount,
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["account_id", "month"])
                .returning(Budget.id)
            )
            budget = await session.scalar(
                select(Budget)
                .where(Budget.account_id == account_id, Budget.month == month)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if budget is not None:
                break
            # The budget that stopped the insert was removed before it could be locked:
            # set it anew, as after the removal.
        if inserted is None and budget.amount != amount:
            budget.amount = amount
            await session.flush()
    return BudgetSet(budget, created=inserted is not None)


async def remove_budget(
    uow: UnitOfWork, account_id: uuid.UUID, month: str, precondition: Precondition | None = None
) -> None:
    check_month(month, "path.month")
    async with uow:
        session = uow.session
        budget = await session.scalar(
            select(Budget)
            .where(Budget.account_id == account_id, Budget.month == month)
            .with_for_update()
        )
        if budget is None:
            raise NotFound("budget", f"of account {account_id} for {month}")
        if precondition is not None:
            _check_precondition(budget, precondition)
        await session.delete(budget)


async def _budget_as_expected(
    session: AsyncSession, account_id: uuid.UUID, month: str, precondition: Precondition
) -> Budget:
    """The month's budget, locked, as the precondition expects it; 412 otherwise (also
    when there is none: an `If-Match` names a budget that exists)."""
    budget = await session.scalar(
        select(Budget)
        .where(Budget.account_id == account_id, Budget.month == month)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if budget is None:
        raise StaleVersion(0)
    _check_precondition(budget, precondition)
    return budget


def _check_precondition(budget: Budget, precondition: Precondition) -> None:
    if precondition.version is not None and precondition.version != budget.version:
        raise StaleVersion(budget.version)


async def list_budgets(
    session: AsyncSession,
    month: str | None,
    account_id: uuid.UUID | None,
    sort: str | None,
    cursor: str | None,
    limit: int,
    *,
    month_from: str | None = None,
    month_to: str | None = None,
) -> Page[Budget]:
    """`month_from` and `month_to` both included; months compare as their text does."""
    conditions = []
    if month is not None:
        check_month(month, "query.month")
        conditions.append(Budget.month == month)
    if month_from is not None:
        check_month(month_from, "query.month_from")
        conditions.append(Budget.month >= month_from)
    if month_to is not None:
        check_month(month_to, "query.month_to")
        conditions.append(Budget.month <= month_to)
    if account_id is not None:
        conditions.append(Budget.account_id == account_id)
    query = select(Budget).where(and_(*conditions)) if conditions else select(Budget)
    rows = list(await session.scalars(LISTING.apply(query, sort, cursor, limit)))
    return LISTING.page(rows, limit, sort)
