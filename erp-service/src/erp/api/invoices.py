"""`/invoices`: issued by the ERP for each shipment; read, listed, and voided while unpaid
(payments are the `/payments` routes)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from erp.adapters.finance import Invoice
from erp.api.deps import UnitOfWorkDep
from erp.service import invoices, ledger
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.json_types import Day
from shared_schemas.http.pagination import CreatedFrom, CreatedTo, Cursor, Limit, Page
from shared_schemas.identity import Access, Authorize
from shared_schemas.money import Currency, Money, Percent

router = APIRouter(prefix="/invoices", tags=["invoices"])

ReadAccess = Annotated[Access, Depends(Authorize("erp", "invoices", "read"))]
VoidAccess = Annotated[Access, Depends(Authorize("erp", "invoices", "void"))]

Status = Literal["issued", "partially_paid", "paid", "void"]

LINE_EXAMPLE: dict[str, JsonValue] = {
    "order_line_id": "3f1c2a9e-6d4b-4e8a-9c1f-2b7d5e8a1c30",
    "product_id": "9b2e4c6a-1d3f-4a5b-8c7d-6e5f4a3b2c10",
    "sku": "CHAIR-01",
    "name": "Chair",
    "quantity": 2,
    "unit_price": "19.99",
    "discount_pct": "10",
    "tax_rate": "19",
    "line_net": "35.98",
    "line_tax": "6.84",
}
INVOICE_EXAMPLE: dict[str, JsonValue] = {
    "id": "5a7c9e1b-3d5f-4a6b-8c9d-0e1f2a3b4c50",
    "number": "INV-2026-000001",
    "order_id": "1c3e5a7b-9d1f-4b2c-8d4e-6f7a8b9c0d20",
    "shipment_id": "7e9a1c3d-5f7b-4d8e-9a0b-1c2d3e4f5a60",
    "quote_id": None,
    "customer_id": "2d4f6a8c-0e2a-4c6e-8a0c-2e4a6c8e0a40",
    "customer_name": "Acme GmbH",
    "status": "issued",
    "currency": "EUR",
    "subtotal": "39.98",
    "discount_total": "4.00",
    "tax_total": "6.84",
    "total": "42.82",
    "amount_paid": "0.00",
    "amount_due": "42.82",
    "issued_on": "2026-11-30",
    "due_date": "2026-12-30",
    "overdue": False,
    "void_reason": None,
    "version": 1,
    "created_at": "2026-11-30T10:00:00Z",
    "lines": [LINE_EXAMPLE],
}


class InvoiceLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    order_line_id: uuid.UUID
    product_id: uuid.UUID
    sku: str
    name: str
    quantity: int
    unit_price: Money
    discount_pct: Percent
    tax_rate: Percent
    line_net: Money
    line_tax: Money


class InvoiceOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [INVOICE_EXAMPLE]})

    id: uuid.UUID
    number: str = Field(description="Gapless per year: INV-<year>-<seq>.")
    order_id: uuid.UUID
    shipment_id: uuid.UUID
    quote_id: uuid.UUID | None
    customer_id: uuid.UUID
    customer_name: str
    status: Status
    currency: Currency
    subtotal: Money
    discount_total: Money
    tax_total: Money
    total: Money
    amount_paid: Money
    amount_due: Money
    issued_on: date
    due_date: date
    overdue: bool = Field(
        description="Something is due and its due date has passed (company time zone)."
    )
    void_reason: str | None
    version: int
    created_at: datetime
    lines: list[InvoiceLineOut]


class InvoiceVoid(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "Billed to the wrong entity"}]}
    )

    reason: str | None = Field(default=None, max_length=500)


def out(invoice: Invoice, today: date) -> InvoiceOut:
    due = invoices.amount_due(invoice)
    return InvoiceOut(
        id=invoice.id,
        number=invoice.number,
        order_id=invoice.order_id,
        shipment_id=invoice.shipment_id,
        quote_id=invoice.quote_id,
        customer_id=invoice.customer_id,
        customer_name=invoice.customer_name,
        status=invoice.status,
        currency=invoice.currency,
        subtotal=invoice.subtotal,
        discount_total=invoice.discount_total,
        tax_total=invoice.tax_total,
        total=invoice.total,
        amount_paid=invoice.amount_paid,
        amount_due=due,
        issued_on=invoice.issued_on,
        due_date=invoice.due_date,
        overdue=invoices.overdue(invoice, today),
        void_reason=invoice.void_reason,
        version=invoice.version,
        created_at=invoice.created_at,
        lines=[InvoiceLineOut.model_validate(line) for line in invoice.lines],
    )


@router.get("", summary="List invoices")
async def list_invoices(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[
        str | None,
        Query(
            description="`created_at`, `issued_on`, `due_date`, `number` or `total`; `-` "
            "descends. Invoices of one value come in the order of their numbers."
        ),
    ] = None,
    status: Annotated[list[Status] | None, Query()] = None,
    customer_id: uuid.UUID | None = None,
    order_id: uuid.UUID | None = None,
    quote_id: uuid.UUID | None = None,
    overdue: Annotated[
        bool | None,
        Query(description="`true`: only invoices with something due after their due date."),
    ] = None,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
    issued_from: Annotated[
        Day | None, Query(description="Invoices issued on or after this day.")
    ] = None,
    issued_to: Annotated[
        Day | None, Query(description="Invoices issued on or before this day.")
    ] = None,
    due_from: Annotated[Day | None, Query(description="Invoices due on or after this day.")] = None,
    due_to: Annotated[Day | None, Query(description="Invoices due on or before this day.")] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=40, description="Prefix of the number, e.g. `INV-2026`."),
    ] = None,
) -> Page[InvoiceOut]:
    today = ledger.today(uow)
    filters = invoices.InvoiceFilters(
        statuses=list(status or []),
        customer_id=customer_id,
        order_id=order_id,
        quote_id=quote_id,
        overdue=overdue,
        today=today,
        created_from=created_from,
        created_to=created_to,
        issued_from=issued_from,
        issued_to=issued_to,
        due_from=due_from,
        due_to=due_to,
        q=q,
    )
    async with uow:
        page = await invoices.list_invoices(uow.session, filters, sort, cursor, limit)
        items = [out(invoice, today) for invoice in page.items]
    return Page[InvoiceOut](items=items, next_cursor=page.next_cursor)


@router.get("/{invoice_id}", summary="One invoice with its lines")
async def get_invoice(
    invoice_id: uuid.UUID, _access: ReadAccess, uow: UnitOfWorkDep, response: Response
) -> InvoiceOut:
    async with uow:
        invoice = await invoices.get_invoice(uow.session, invoice_id)
        set_etag(response, invoice.version)
        return out(invoice, ledger.today(uow))


@router.post(
    "/{invoice_id}/void",
    summary="Void an invoice nothing was paid on; its posting is reversed",
    responses={
        404: {"description": "No such invoice"},
        409: {"description": "Paid in part or whole, or void (`current_status`, `allowed`)"},
        412: {"description": "If-Match names an older version"},
    },
)
async def void_invoice(
    invoice_id: uuid.UUID,
    _access: VoidAccess,
    uow: UnitOfWorkDep,
    response: Response,
    body: InvoiceVoid | None = None,
    if_match: IfMatch = None,
) -> InvoiceOut:
    await invoices.void_invoice(
        uow, invoice_id, body.reason if body else None, expected_version(if_match)
    )
    async with uow:
        invoice = await invoices.get_invoice(uow.session, invoice_id)
        set_etag(response, invoice.version)
        return out(invoice, ledger.today(uow))
