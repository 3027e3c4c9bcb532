"""Use cases of the ledger: accounts, posting balanced entries (by hand or for business
documents), reversing them, and reading them back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from erp.adapters.finance import Account, JournalEntry, JournalLine
from erp.domain.ledger import (
    ACCOUNT_TYPES,
    SUB_LEDGER_ACCOUNTS,
    Posting,
    check_balanced,
    reversal_of,
)
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.domain import Conflict, Duplicate, NotFound, RuleViolation
from shared_schemas.http.pagination import Page
from shared_schemas.listing import Listing, SortKey

MANUAL = "manual"
REVERSAL = "reversal"

# How a business document's entry is corrected instead of being reversed by hand.
CORRECTED_BY = {
    "invoice": "void the invoice, which reverses its entry",
    "invoice_void": "a void is final",
    "payment": "a payment's entry stands with the payment",
    "shipment": "the goods left; their cost stays posted",
    "stock_movement": "post a stock adjustment or movement",
    "cost_change": "change the product's cost again",
}

ACCOUNT_LISTING = Listing(
    fields={"code": SortKey(Account.code)}, id_column=Account.id, default="code"
)
# A journal is read in posting order: entries of one date (or posted at one moment) follow
# their number, never their random id.
ENTRY_LISTING = Listing(
    fields={
        "entry_date": SortKey(JournalEntry.entry_date, date),
        "created_at": SortKey(JournalEntry.created_at, datetime),
    },
    id_column=JournalEntry.seq,
    id_kind=int,
    id_attribute="seq",
    default="-entry_date",
)


def today(uow: UnitOfWork) -> date:
    """The date in the company's time zone: what entries, invoices and payments are dated."""
    return uow.now().astimezone(uow.settings.company.zone).date()


async def system_accounts(session: AsyncSession) -> dict[str, uuid.UUID]:
    """The accounts postings go to, by system key."""
    rows = await session.execute(
        select(Account.system_key, Account.id).where(Account.system_key.is_not(None))
    )
    return {key: account_id for key, account_id in rows if key is not None}


async def post_entry(
    uow: UnitOfWork,
    lines: Sequence[Posting],
    *,
    source_type: str,
    source_id: uuid.UUID | None = None,
    reference: str | None = None,
    memo: str | None = None,
    entry_date: date | None = None,
    reverses_id: uuid.UUID | None = None,
) -> JournalEntry:
    """Post a balanced entry in the caller's open unit of work; accounts given by system
    key or id. Refused (422) unless it balances and every account exists and is active."""
    check_balanced(lines)
    session = uow.session
    accounts = await _resolve(session, lines)
    when = entry_date or today(uow)
    entry = JournalEntry(
        id=uuid.uuid4(),
        entry_date=when,
        memo=memo,
        source_type=source_type,
        source_id=source_id,
        reference=reference,
        reverses_id=reverses_id,
        created_by=uow.actor,
        created_at=uow.now(),
    )
    session.add(entry)
    session.add_all(
        JournalLine(
            entry_id=entry.id,
            account_id=accounts[index],
            entry_date=when,
            debit=line.debit,
            credit=line.credit,
            description=line.description,
        )
        for index, line in enumerate(lines)
    )
    return entry


async def _resolve(session: AsyncSession, lines: Sequence[Posting]) -> list[uuid.UUID]:
    by_key = {line.account for line in lines if isinstance(line.account, str)}
    by_id = {line.account for line in lines if isinstance(line.account, uuid.UUID)}
    found = await session.execute(
        select(Account.id, Account.system_key, Account.active).where(
            Account.system_key.in_(by_key) | Account.id.in_(by_id)
        )
    )
    active: dict[uuid.UUID | str, uuid.UUID] = {}
    inactive: set[uuid.UUID | str] = set()
    for account_id, key, is_active in found:
        for name in (account_id, key):
            if name is None:
                continue
            if is_active:
                active[name] = account_id
            else:
                inactive.add(name)
    errors = []
    for index, line in enumerate(lines):
        if line.account in inactive:
            errors.append({"field": f"lines.{index}.account_id", "message": "inactive account"})
        elif line.account not in active:
            errors.append({"field": f"lines.{index}.account_id", "message": "unknown account"})
    if errors:
        raise RuleViolation("Some lines name no usable account.", errors)
    return [active[line.account] for line in lines]


async def post_manual_entry(
    uow: UnitOfWork,
    lines: Sequence[Posting],
    *,
    entry_date: date,
    memo: str | None,
    reference: str,
) -> JournalEntry:
    """A balanced entry by hand, never to an account a sub-ledger keeps (inventory,
    receivables): 422 naming the line. It names the document it books (`reference`: the
    lease, the payroll run, the bank statement), as a business document's entry names
    its document: 422 when blank."""
    source = reference.strip()
    if not source:
        raise RuleViolation(
            "A manual entry names the source document it books.",
            [{"field": "reference", "message": "required: the source document's reference"}],
        )
    async with uow:
        await _check_no_sub_ledger_account(uow.session, lines)
        entry = await post_entry(
            uow,
            lines,
            source_type=MANUAL,
            reference=source,
            memo=memo,
            entry_date=entry_date,
        )
    return await _reloaded(uow, entry.id)


async def reverse_entry(
    uow: UnitOfWork, entry_id: uuid.UUID, *, entry_date: date | None, memo: str | None
) -> JournalEntry:
    """A new entry with every line's sides swapped, of a manual entry only: 409 when the
    entry was reversed already, is itself a reversal or was posted by a business document
    (which corrects itself: void the invoice, ...); 422 when dated before the entry."""
    async with uow:
        reversal = await reverse_in(
            uow, entry_id, source_type=REVERSAL, entry_date=entry_date, by_hand=True
        )
        if memo:
            reversal.memo = memo
    return await _reloaded(uow, reversal.id)


async def reverse_in(
    uow: UnitOfWork,
    entry_id: uuid.UUID,
    *,
    source_type: str,
    source_id: uuid.UUID | None = None,
    entry_date: date | None = None,
    by_hand: bool = False,
) -> JournalEntry:
    """Reverse an entry inside the caller's open unit of work, dated `entry_date` (default
    today), never before the entry itself (422). `by_hand`: only a manual entry (409
    otherwise)."""
    session = uow.session
    entry = await session.scalar(
        select(JournalEntry)
        .where(JournalEntry.id == entry_id)
        .options(selectinload(JournalEntry.lines))
        .with_for_update()
    )
    if entry is None:
        raise NotFound("journal entry", entry_id)
    if entry.reverses_id is not None:
        raise Conflict("A reversing entry is not reversed; post a new entry instead.")
    existing = await session.scalar(
        select(JournalEntry.id).where(JournalEntry.reverses_id == entry_id)
    )
    if existing is not None:
        raise Duplicate(f"Entry {entry.number} is reversed already.", existing)
    if by_hand and entry.source_type != MANUAL:
        how = CORRECTED_BY.get(entry.source_type, "correct the document that posted it")
        raise Conflict(
            f"Entry {entry.number} was posted by a {entry.source_type.replace('_', ' ')} and "
            f"is corrected through it, not reversed by hand: {how}.",
            source_type=entry.source_type,
            source_id=str(entry.source_id) if entry.source_id else None,
        )
    when = entry_date or today(uow)
    if when < entry.entry_date:
        raise RuleViolation(
            f"A reversal cannot be dated before the entry it reverses ({entry.entry_date}).",
            [{"field": "entry_date", "message": f"on or after {entry.entry_date}"}],
        )
    original = [
        Posting(line.account_id, line.debit, line.credit, line.description) for line in entry.lines
    ]
    return await post_entry(
        uow,
        reversal_of(original),
        source_type=source_type,
        source_id=source_id,
        reference=entry.number,
        memo=f"Reversal of {entry.number}",
        entry_date=when,
        reverses_id=entry.id,
    )


async def _check_no_sub_ledger_account(session: AsyncSession, lines: Sequence[Posting]) -> None:
    ids = {line.account for line in lines if isinstance(line.account, uuid.UUID)}
    keys: dict[uuid.UUID | str, str] = {
        line.account: line.account
        for line in lines
        if isinstance(line.account, str) and line.account in SUB_LEDGER_ACCOUNTS
    }
    rows = await session.execute(
        select(Account.id, Account.system_key).where(
            Account.id.in_(ids), Account.system_key.in_(SUB_LEDGER_ACCOUNTS)
        )
    )
    keys.update({account_id: key for account_id, key in rows if key is not None})
    errors = [
        {
            "field": f"lines.{index}.account_id",
            "message": f"{keys[line.account]} is posted only by "
            f"{SUB_LEDGER_ACCOUNTS[keys[line.account]]}",
        }
        for index, line in enumerate(lines)
        if line.account in keys
    ]
    if errors:
        raise RuleViolation(
            "A manual entry cannot post to an account a sub-ledger keeps: its balance must "
            "stay what the stock or the unpaid invoices say.",
            errors,
        )


async def posted_entry(
    session: AsyncSession, source_type: str, source_id: uuid.UUID
) -> uuid.UUID | None:
    """The entry a document posted (each document posts at most one of each kind)."""
    return await session.scalar(
        select(JournalEntry.id).where(
            JournalEntry.source_type == source_type, JournalEntry.source_id == source_id
        )
    )


async def get_entry(session: AsyncSession, entry_id: uuid.UUID) -> JournalEntry:
    entry = await session.scalar(
        select(JournalEntry)
        .where(JournalEntry.id == entry_id)
        .options(selectinload(JournalEntry.lines))
    )
    if entry is None:
        raise NotFound("journal entry", entry_id)
    return entry


async def _reloaded(uow: UnitOfWork, entry_id: uuid.UUID) -> JournalEntry:
    async with uow:
        return await get_entry(uow.session, entry_id)


@dataclass(frozen=True)
class EntryFilters:
    account_id: uuid.UUID | None = None
    source_type: str | None = None
    source_id: uuid.UUID | None = None
    # The entry's accounting date (`entry_date`), both ends included.
    date_from: date | None = None
    date_to: date | None = None
    # When it was posted (`created_at`), the end excluded as in every other list.
    created_from: datetime | None = None
    created_to: datetime | None = None


async def list_entries(
    session: AsyncSession, filters: EntryFilters, sort: str | None, cursor: str | None, limit: int
) -> Page[JournalEntry]:
    conditions: list[ColumnElement[bool]] = []
    if filters.account_id:
        touching = select(JournalLine.entry_id).where(JournalLine.account_id == filters.account_id)
        conditions.append(JournalEntry.id.in_(touching))
    if filters.source_type:
        conditions.append(JournalEntry.source_type == filters.source_type)
    if filters.source_id:
        conditions.append(JournalEntry.source_id == filters.source_id)
    if filters.date_from:
        conditions.append(JournalEntry.entry_date >= filters.date_from)
    if filters.date_to:
        conditions.append(JournalEntry.entry_date <= filters.date_to)
    if filters.created_from:
        conditions.append(JournalEntry.created_at >= filters.created_from)
    if filters.created_to:
        conditions.append(JournalEntry.created_at < filters.created_to)
    query = select(JournalEntry).options(selectinload(JournalEntry.lines))
    if conditions:
        query = query.where(and_(*conditions))
    rows = list(await session.scalars(ENTRY_LISTING.apply(query, sort, cursor, limit)))
    return ENTRY_LISTING.page(rows, limit, sort)


async def create_account(uow: UnitOfWork, values: Mapping[str, Any]) -> Account:
    if values["type"] not in ACCOUNT_TYPES:
        raise RuleViolation(
            "Unknown account type.",
            [{"field": "type", "message": f"one of {', '.join(ACCOUNT_TYPES)}"}],
        )
    async with uow:
        session = uow.session
        existing = await session.scalar(select(Account.id).where(Account.code == values["code"]))
        if existing is not None:
            raise Duplicate(f"An account with code {values['code']!r} exists already.", existing)
        account = Account(
            id=uuid.uuid4(),
            code=values["code"],
            name=values["name"],
            type=values["type"],
            system_key=None,
            active=True,
        )
        session.add(account)
    return account


async def get_account(session: AsyncSession, account_id: uuid.UUID) -> Account:
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound("account", account_id)
    return account


async def list_accounts(
    session: AsyncSession,
    account_type: str | None,
    sort: str | None,
    cursor: str | None,
    limit: int,
    *,
    active: bool | None = None,
) -> Page[Account]:
    query = select(Account)
    if account_type:
        query = query.where(Account.type == account_type)
    if active is not None:
        query = query.where(Account.active.is_(active))
    rows = list(await session.scalars(ACCOUNT_LISTING.apply(query, sort, cursor, limit)))
    return ACCOUNT_LISTING.page(rows, limit, sort)
