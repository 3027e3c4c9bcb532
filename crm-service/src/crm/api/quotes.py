"""`/quotes`: priced offers to customers, from draft to accepted, rejected or expired."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from crm.adapters.quotes import Quote
from crm.api.deps import UnitOfWorkDep
from crm.domain.quotes import MAX_LINES
from crm.service import quotes
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.json_types import Day
from shared_schemas.http.lines import LINE_EXAMPLE, LineIn
from shared_schemas.http.pagination import CreatedFrom, CreatedTo, Cursor, Limit, Page
from shared_schemas.http.patch import NotNull
from shared_schemas.identity import Access, Authorize
from shared_schemas.money import Currency, Money, Percent

router = APIRouter(prefix="/quotes", tags=["quotes"])

ReadAccess = Annotated[Access, Depends(Authorize("crm", "quotes", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("crm", "quotes", "create"))]
UpdateAccess = Annotated[Access, Depends(Authorize("crm", "quotes", "update"))]
SendAccess = Annotated[Access, Depends(Authorize("crm", "quotes", "send"))]
AcceptAccess = Annotated[Access, Depends(Authorize("crm", "quotes", "accept"))]
RejectAccess = Annotated[Access, Depends(Authorize("crm", "quotes", "reject"))]

Status = Literal["draft", "sent", "accepted", "rejected", "expired"]


class QuoteLineIn(LineIn):
    """A line to quote; unit_price and tax_rate default to the product's current ones."""


class QuoteCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "0b6f2f4e-3c1a-4f57-9a52-2f0f6a0f3b11",
                    "opportunity_id": None,
                    "valid_until": "2026-12-31",
                    "notes": "Delivery within two weeks of the order.",
                    "lines": [LINE_EXAMPLE, {"sku": "DESK-02", "quantity": 1}],
                }
            ]
        },
    )

    customer_id: uuid.UUID = Field(description="An active customer.")
    opportunity_id: uuid.UUID | None = Field(
        default=None,
        description="An open opportunity of that customer, one the caller may change "
        "(a sales rep's own): accepting the quote wins it.",
    )
    currency: Currency | None = Field(
        default=None, description="The company currency (the default); no other is accepted."
    )
    valid_until: Day | None = Field(
        default=None, description="Default: today plus the configured validity days."
    )
    notes: str | None = Field(default=None, max_length=5000)
    owner_id: uuid.UUID | None = Field(
        default=None, description="The owning sales rep; defaults to you if you may own it."
    )
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=MAX_LINES)


class QuoteUpdate(BaseModel):
    """Fields of a draft to change; lines, when given, replace all lines. Null removes
    `opportunity_id`, `owner_id` or `notes` (null for any other field is a 422). Status
    changes through `/send`, `/accept` and `/reject`, never here."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"valid_until": "2027-01-15", "lines": [{"sku": "DESK-02", "quantity": 2}]}
            ]
        },
    )

    customer_id: Annotated[uuid.UUID | None, NotNull] = None
    opportunity_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    valid_until: Annotated[Day | None, NotNull] = None
    notes: str | None = Field(default=None, max_length=5000)
    lines: Annotated[list[QuoteLineIn] | None, NotNull] = Field(
        default=None, min_length=1, max_length=MAX_LINES
    )


class QuoteRejection(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "Budget cut"}]}
    )

    reason: str | None = Field(default=None, max_length=500)


class QuoteLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    product_id: uuid.UUID | None
    name: str | None
    quantity: int
    unit_price: Money
    discount_pct: Percent
    tax_rate: Percent
    line_net: Money = Field(description="quantity * unit_price * (1 - discount), half up.")
    line_tax: Money = Field(description="line_net * tax_rate, half up.")


class QuoteOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "5d1c4a52-6a0e-4a43-8d0e-7d7b0b1f2a10",
                    "number": "Q-2026-000123",
                    "customer_id": "0b6f2f4e-3c1a-4f57-9a52-2f0f6a0f3b11",
                    "opportunity_id": None,
                    "owner_id": "d0000000-0000-4000-8000-000000000002",
                    "currency": "EUR",
                    "status": "sent",
                    "valid_until": "2026-12-31",
                    "notes": None,
                    "lines": [
                        {
                            **LINE_EXAMPLE,
                            "product_id": "7a3e9a1c-1f7e-4b8e-9e43-1c2b3d4e5f60",
                            "name": "Office chair",
                            "line_net": "53.97",
                            "line_tax": "10.25",
                        }
                    ],
                    "subtotal": "59.97",
                    "discount_total": "6.00",
                    "tax_total": "10.25",
                    "total": "64.22",
                    "rejection_reason": None,
                    "sent_at": "2026-11-20T10:00:00Z",
                    "decided_at": None,
                    "order_id": None,
                    "order_number": None,
                    "order_status": None,
                    "order_version": None,
                    "version": 2,
                    "created_at": "2026-11-20T09:30:00Z",
                    "updated_at": "2026-11-20T10:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    opportunity_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    currency: str
    status: Status
    valid_until: date
    notes: str | None
    lines: list[QuoteLineOut]
    subtotal: Money = Field(description="Sum of quantity * unit_price.")
    discount_total: Money = Field(description="subtotal - sum of line_net.")
    tax_total: Money = Field(description="Sum of line_tax.")
    total: Money = Field(description="Sum of line_net + tax_total.")
    rejection_reason: str | None
    sent_at: datetime | None
    decided_at: datetime | None
    order_id: uuid.UUID | None = Field(description="The ERP order made from it, once reported.")
    order_number: str | None
    order_status: str | None = Field(description="The order's status as ERP last reported it.")
    order_version: int | None
    version: int
    created_at: datetime
    updated_at: datetime


def _respond(response: Response, quote: Quote) -> QuoteOut:
    set_etag(response, quote.version)
    return QuoteOut.model_validate(quote)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a draft quote",
    responses={
        403: {"description": "A field your role may not set (named in `errors`)"},
        422: {"description": "Bad input, e.g. an unknown or inactive sku (`lines.<n>.sku`)"},
    },
)
async def create_quote(
    body: QuoteCreate, access: CreateAccess, uow: UnitOfWorkDep, response: Response
) -> QuoteOut:
    values = body.model_dump(exclude_unset=True)
    values["lines"] = [line.model_dump() for line in body.lines]
    quote = await quotes.create_quote(uow, access, values)
    response.headers["Location"] = f"/quotes/{quote.id}"
    return _respond(response, quote)


@router.get("", summary="List and search quotes")
async def list_quotes(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[
        str | None,
        Query(
            description="`created_at` (default `-created_at`), `number`, `valid_until`, "
            "`total`; prefix `-` for descending. Equal values in the order of their ids."
        ),
    ] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=40, description="Prefix of the number, e.g. `Q-2026`."),
    ] = None,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    customer_id: uuid.UUID | None = None,
    owner_id: Annotated[list[uuid.UUID] | None, Query()] = None,
    opportunity_id: uuid.UUID | None = None,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
    valid_until_from: Annotated[
        Day | None,
        Query(description="Quotes valid until this day (YYYY-MM-DD) or later."),
    ] = None,
    valid_until_to: Annotated[
        Day | None,
        Query(
            description="Quotes valid until this day (YYYY-MM-DD) at the latest; with "
            "`status=sent` and today as `valid_until_from`, the quotes expiring soon."
        ),
    ] = None,
) -> Page[QuoteOut]:
    filters = quotes.QuoteFilters(
        statuses=list(status_ or []),
        customer_id=customer_id,
        owner_ids=owner_id or [],
        opportunity_id=opportunity_id,
        created_from=created_from,
        created_to=created_to,
        valid_from=valid_until_from,
        valid_to=valid_until_to,
        q=q,
    )
    async with uow:
        page = await quotes.list_quotes(uow.session, filters, sort, cursor, limit)
    return Page[QuoteOut](
        items=[QuoteOut.model_validate(quote) for quote in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/{quote_id}", summary="One quote with its lines")
async def get_quote(
    quote_id: uuid.UUID, _access: ReadAccess, uow: UnitOfWorkDep, response: Response
) -> QuoteOut:
    async with uow:
        quote = await quotes.get_quote(uow.session, quote_id)
    return _respond(response, quote)


@router.patch(
    "/{quote_id}",
    summary="Change a draft quote",
    responses={
        409: {"description": "The quote is no draft (`current_status`, `allowed`)"},
        412: {"description": "If-Match names an older version"},
    },
)
async def update_quote(
    quote_id: uuid.UUID,
    body: QuoteUpdate,
    access: UpdateAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> QuoteOut:
    changes = body.model_dump(exclude_unset=True)
    if body.lines is not None:
        changes["lines"] = [line.model_dump() for line in body.lines]
    quote = await quotes.update_quote(uow, access, quote_id, changes, expected_version(if_match))
    return _respond(response, quote)


TRANSITION_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "Not allowed in the current status (`current_status`, `allowed`)"},
    412: {"description": "If-Match names an older version"},
}


@router.post(
    "/{quote_id}/send", summary="Send a draft to the customer", responses=TRANSITION_RESPONSES
)
async def send_quote(
    quote_id: uuid.UUID,
    access: SendAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> QuoteOut:
    quote = await quotes.send_quote(uow, access, quote_id, expected_version(if_match))
    return _respond(response, quote)


@router.post(
    "/{quote_id}/accept",
    summary="Record the customer's acceptance (ERP then makes the order)",
    responses=TRANSITION_RESPONSES,
)
async def accept_quote(
    quote_id: uuid.UUID,
    access: AcceptAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> QuoteOut:
    quote = await quotes.accept_quote(uow, access, quote_id, expected_version(if_match))
    return _respond(response, quote)


@router.post(
    "/{quote_id}/reject",
    summary="Record the customer's rejection",
    responses=TRANSITION_RESPONSES,
)
async def reject_quote(
    quote_id: uuid.UUID,
    access: RejectAccess,
    uow: UnitOfWorkDep,
    response: Response,
    body: QuoteRejection | None = None,
    if_match: IfMatch = None,
) -> QuoteOut:
    reason = body.reason if body else None
    quote = await quotes.reject_quote(uow, access, quote_id, reason, expected_version(if_match))
    return _respond(response, quote)
