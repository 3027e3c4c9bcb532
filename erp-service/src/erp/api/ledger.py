"""`/ledger`: the chart of accounts and the journal (manual entries and their reversals;
the business documents post, and correct, their own entries)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from erp.adapters.finance import Account, JournalEntry
from erp.api.deps import UnitOfWorkDep
from erp.domain.ledger import MAX_LINES, Posting
from erp.domain.orders import MAX_AMOUNT
from erp.service import ledger
from shared_schemas.http.concurrency import set_etag
from shared_schemas.http.json_types import Day
from shared_schemas.http.pagination import CreatedFrom, CreatedTo, Cursor, Limit, Page
from shared_schemas.http.text import Words
from shared_schemas.identity import Access, Authorize
from shared_schemas.money import Money

router = APIRouter(prefix="/ledger", tags=["ledger"])

ReadAccess = Annotated[Access, Depends(Authorize("erp", "ledger", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("erp", "ledger", "create"))]

AccountType = Literal["asset", "liability", "equity", "revenue", "expense"]
Amount = Annotated[Money, Field(ge=0, le=MAX_AMOUNT)]

ACCOUNT_EXAMPLE: dict[str, JsonValue] = {"code": "6100", "name": "Rent", "type": "expense"}
ENTRY_EXAMPLE: dict[str, JsonValue] = {
    "entry_date": "2026-11-30",
    "memo": "November rent",
    "reference": "LL-2026-11",
    "lines": [
        {"account_id": "0b4a4f0e-3c2d-4d7b-9a57-2f4f0f6f1c01", "debit": "1500.00"},
        {"account_id": "0b4a4f0e-3c2d-4d7b-9a57-2f4f0f6f1c02", "credit": "1500.00"},
    ],
}


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ACCOUNT_EXAMPLE]})

    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9._-]+$")
    name: Words = Field(max_length=200)
    type: AccountType


class AccountOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **ACCOUNT_EXAMPLE,
                    "id": "0b4a4f0e-3c2d-4d7b-9a57-2f4f0f6f1c03",
                    "system_key": None,
                    "active": True,
                    "version": 1,
                }
            ]
        },
    )

    id: uuid.UUID
    code: str
    name: str
    type: AccountType
    system_key: str | None = Field(
        description="Set on the accounts the system posts to (receivables, inventory, ...)."
    )
    active: bool
    version: int


class EntryLineIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"account_id": "0b4a4f0e-3c2d-4d7b-9a57-2f4f0f6f1c01", "debit": "10.00"}]
        },
    )

    account_id: uuid.UUID
    debit: Amount = Decimal("0.00")
    credit: Amount = Decimal("0.00")
    description: str | None = Field(default=None, max_length=500)


class JournalEntryCreate(BaseModel):
    """A manual entry: its debits must equal its credits."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ENTRY_EXAMPLE]})

    entry_date: Day
    memo: str | None = Field(default=None, max_length=500)
    reference: str = Field(
        max_length=100,
        description="The source document the entry books (the lease, the payroll run, the "
        "bank statement): required, not blank.",
    )
    lines: list[EntryLineIn] = Field(min_length=2, max_length=MAX_LINES)


class ReversalCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"entry_date": "2026-12-01"}]}
    )

    entry_date: Day | None = Field(
        default=None, description="Default: today; never before the entry reversed."
    )
    memo: str | None = Field(default=None, max_length=500)


class EntryLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    account_id: uuid.UUID
    debit: Money
    credit: Money
    description: str | None


class JournalEntryOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **ENTRY_EXAMPLE,
                    "id": "0b4a4f0e-3c2d-4d7b-9a57-2f4f0f6f1c04",
                    "number": "JE-000042",
                    "source_type": "manual",
                    "source_id": None,
                    "reverses_id": None,
                    "created_by": "user-finance",
                    "created_at": "2026-11-30T09:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    number: str
    entry_date: date
    memo: str | None
    reference: str | None = Field(
        description="The source document's human reference: what a manual entry books, the "
        "number of the shipment, invoice or entry reversed, a payment's reference (else its "
        "invoice's number), the sku of a cost change; none on a stock movement's entry."
    )
    source_type: str = Field(
        description="manual, reversal, stock_movement, cost_change, shipment, invoice, "
        "invoice_void or payment"
    )
    source_id: uuid.UUID | None = Field(
        description="The document that posted it: the stock movement, shipment, invoice or "
        "payment; the product of a cost change (one entry per change); the voided invoice of "
        "an invoice_void. None on manual entries and their reversals."
    )
    reverses_id: uuid.UUID | None
    created_by: str
    created_at: datetime
    lines: list[EntryLineOut]


@router.get("/accounts", summary="The chart of accounts")
async def list_accounts(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[str | None, Query(description="`code` (the default), `-code`.")] = None,
    type: AccountType | None = None,
    active: Annotated[
        bool | None, Query(description="`true`: only accounts open to postings; `false`: closed.")
    ] = None,
) -> Page[AccountOut]:
    async with uow:
        page = await ledger.list_accounts(uow.session, type, sort, cursor, limit, active=active)
    return Page[AccountOut](
        items=[AccountOut.model_validate(a) for a in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/accounts",
    status_code=status.HTTP_201_CREATED,
    summary="Add an account to the chart",
    responses={409: {"description": "The code exists (`existing_id`)"}},
)
async def create_account(
    body: AccountCreate, _access: CreateAccess, uow: UnitOfWorkDep, response: Response
) -> AccountOut:
    account = await ledger.create_account(uow, body.model_dump())
    set_etag(response, account.version)
    response.headers["Location"] = f"/ledger/accounts/{account.id}"
    return AccountOut.model_validate(account)


@router.get("/accounts/{account_id}", summary="One account")
async def get_account(
    account_id: uuid.UUID, _access: ReadAccess, uow: UnitOfWorkDep, response: Response
) -> AccountOut:
    async with uow:
        account: Account = await ledger.get_account(uow.session, account_id)
    set_etag(response, account.version)
    return AccountOut.model_validate(account)


@router.get(
    "/journal-entries",
    summary="List journal entries",
    description="`date_from`/`date_to` select by the entry's accounting date (`entry_date`, "
    "both ends included); `created_from`/`created_to` by when it was posted (`created_at`), "
    "as on every list. `source_type` with `source_id` finds what a document posted, e.g. "
    "`source_type=cost_change&source_id=<product id>` every revaluation of a product.",
)
async def list_entries(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[
        str | None,
        Query(
            description="`entry_date` or `created_at`; `-` descends (default `-entry_date`). "
            "Entries of one date or moment come in the order of their numbers."
        ),
    ] = None,
    account_id: uuid.UUID | None = None,
    source_type: Annotated[str | None, Query(max_length=40)] = None,
    source_id: uuid.UUID | None = None,
    date_from: Annotated[
        Day | None, Query(description="Entries whose entry_date is on or after this day.")
    ] = None,
    date_to: Annotated[
        Day | None, Query(description="Entries whose entry_date is on or before this day.")
    ] = None,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
) -> Page[JournalEntryOut]:
    filters = ledger.EntryFilters(
        account_id=account_id,
        source_type=source_type,
        source_id=source_id,
        date_from=date_from,
        date_to=date_to,
        created_from=created_from,
        created_to=created_to,
    )
    async with uow:
        page = await ledger.list_entries(uow.session, filters, sort, cursor, limit)
        return Page[JournalEntryOut](
            items=[JournalEntryOut.model_validate(e) for e in page.items],
            next_cursor=page.next_cursor,
        )


@router.post(
    "/journal-entries",
    status_code=status.HTTP_201_CREATED,
    summary="Post a manual journal entry (debits must equal credits)",
    description="Never to inventory or receivables: their balance is kept by the stock and "
    "the invoices (a line naming one is a 422).",
    responses={
        422: {
            "description": "Unbalanced, an unknown or inactive account, an account a "
            "sub-ledger keeps (inventory, receivables), or no `reference`"
        }
    },
)
async def post_entry(
    body: JournalEntryCreate, _access: CreateAccess, uow: UnitOfWorkDep, response: Response
) -> JournalEntryOut:
    entry = await ledger.post_manual_entry(
        uow,
        [
            Posting(line.account_id, line.debit, line.credit, line.description)
            for line in body.lines
        ],
        entry_date=body.entry_date,
        memo=body.memo,
        reference=body.reference,
    )
    response.headers["Location"] = f"/ledger/journal-entries/{entry.id}"
    return _out(entry)


@router.get("/journal-entries/{entry_id}", summary="One journal entry with its lines")
async def get_entry(
    entry_id: uuid.UUID, _access: ReadAccess, uow: UnitOfWorkDep
) -> JournalEntryOut:
    async with uow:
        return _out(await ledger.get_entry(uow.session, entry_id))


@router.post(
    "/journal-entries/{entry_id}/reverse",
    status_code=status.HTTP_201_CREATED,
    summary="Reverse a manual entry with a new entry of swapped sides",
    description="Only manual entries: an entry a business document posted is corrected "
    "through the document (void the invoice, adjust the stock, ...), which keeps the "
    "document and the ledger in agreement.",
    responses={
        404: {"description": "No such entry"},
        409: {
            "description": "Reversed already (`existing_id`), itself a reversal, or posted "
            "by a business document (`source_type`, `source_id`)"
        },
        422: {"description": "Dated before the entry it reverses"},
    },
)
async def reverse_entry(
    entry_id: uuid.UUID,
    _access: CreateAccess,
    uow: UnitOfWorkDep,
    response: Response,
    body: ReversalCreate | None = None,
) -> JournalEntryOut:
    reversal = await ledger.reverse_entry(
        uow,
        entry_id,
        entry_date=body.entry_date if body else None,
        memo=body.memo if body else None,
    )
    response.headers["Location"] = f"/ledger/journal-entries/{reversal.id}"
    return _out(reversal)


def _out(entry: JournalEntry) -> JournalEntryOut:
    return JournalEntryOut.model_validate(entry)
