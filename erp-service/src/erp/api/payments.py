"""`/payments`: money received against an invoice (Idempotency-Key makes a provider's
retried callback one payment)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from erp.adapters.finance import Payment
from erp.api.deps import UnitOfWorkDep
from erp.api.invoices import InvoiceOut, out
from erp.domain.orders import MAX_AMOUNT
from erp.service import ledger, payments
from shared_schemas.http.json_types import Day
from shared_schemas.http.pagination import CreatedFrom, CreatedTo, Cursor, Limit, Page
from shared_schemas.identity import Access, Authorize
from shared_schemas.money import Currency, Money

router = APIRouter(prefix="/payments", tags=["payments"])

ReadAccess = Annotated[Access, Depends(Authorize("erp", "payments", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("erp", "payments", "create"))]

Method = Literal["bank_transfer", "card", "cash", "cheque", "direct_debit"]

EXAMPLE: dict[str, JsonValue] = {
    "invoice_id": "5a7c9e1b-3d5f-4a6b-8c9d-0e1f2a3b4c50",
    "amount": "42.82",
    "method": "bank_transfer",
    "reference": "SEPA-2026-11-30-0042",
    "received_on": "2026-11-30",
}


class PaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    invoice_id: uuid.UUID
    amount: Annotated[Money, Field(gt=0, le=MAX_AMOUNT)]
    method: Method = Field(description="`cash` lands in the cash account, the rest in the bank.")
    reference: str | None = Field(default=None, max_length=100)
    received_on: Day | None = Field(default=None, description="Default: today.")


class PaymentOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **EXAMPLE,
                    "id": "8b0d2f4a-6c8e-4a1b-9d3f-5e7a9c1b3d70",
                    "customer_id": "2d4f6a8c-0e2a-4c6e-8a0c-2e4a6c8e0a40",
                    "currency": "EUR",
                    "created_by": "user-finance",
                    "created_at": "2026-11-30T10:05:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    invoice_id: uuid.UUID
    customer_id: uuid.UUID
    amount: Money
    currency: Currency
    method: Method
    reference: str | None
    received_on: date
    created_by: str
    created_at: datetime


class PaymentRecorded(PaymentOut):
    """The payment and the invoice as it now is."""

    invoice: InvoiceOut


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Record a payment against an invoice",
    responses={
        404: {"description": "No such invoice"},
        409: {"description": "The invoice is paid or void (`current_status`, `allowed`)"},
        422: {"description": "More than is due, or a date in the future"},
    },
)
async def record_payment(
    body: PaymentCreate, _access: CreateAccess, uow: UnitOfWorkDep, response: Response
) -> PaymentRecorded:
    payment, invoice = await payments.record_payment(
        uow,
        payments.PaymentRequest(
            invoice_id=body.invoice_id,
            amount=body.amount,
            method=body.method,
            reference=body.reference,
            received_on=body.received_on,
        ),
    )
    response.headers["Location"] = f"/payments/{payment.id}"
    async with uow:
        invoice = await payments.invoice_of(uow.session, payment)
        return PaymentRecorded(
            **PaymentOut.model_validate(payment).model_dump(),
            invoice=out(invoice, ledger.today(uow)),
        )


@router.get("", summary="List payments")
async def list_payments(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[
        str | None, Query(description="`created_at` or `received_on`; `-` descends.")
    ] = None,
    invoice_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
    received_from: Annotated[
        Day | None, Query(description="Payments received on or after this day.")
    ] = None,
    received_to: Annotated[
        Day | None, Query(description="Payments received on or before this day.")
    ] = None,
    method: Annotated[
        list[Method] | None, Query(description="Repeat for any of several methods.")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="Prefix of the reference, any case, e.g. `sepa-2026-11`.",
        ),
    ] = None,
) -> Page[PaymentOut]:
    filters = payments.PaymentFilters(
        invoice_id=invoice_id,
        customer_id=customer_id,
        created_from=created_from,
        created_to=created_to,
        received_from=received_from,
        received_to=received_to,
        methods=list(method or []),
        q=q,
    )
    async with uow:
        page = await payments.list_payments(uow.session, filters, sort, cursor, limit)
    return Page[PaymentOut](
        items=[PaymentOut.model_validate(p) for p in page.items], next_cursor=page.next_cursor
    )


@router.get("/{payment_id}", summary="One payment")
async def get_payment(payment_id: uuid.UUID, _access: ReadAccess, uow: UnitOfWorkDep) -> PaymentOut:
    async with uow:
        payment: Payment = await payments.get_payment(uow.session, payment_id)
    return PaymentOut.model_validate(payment)
