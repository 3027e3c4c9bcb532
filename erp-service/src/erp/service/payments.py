"""Use cases of payments: applied to one invoice, never more than is due, each recorded
once (a provider's retried callback carries the same Idempotency-Key)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from erp.adapters.finance import Invoice, Payment
from erp.domain.invoicing import CASH_METHODS, PAID, check_payment, status_after_payment
from erp.domain.ledger import BANK, CASH, RECEIVABLES, Posting
from erp.service import ledger
from erp.service.invoices import amount_due, get_invoice, invoice_header
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.domain import NotFound, RuleViolation
from shared_schemas.events.erp.invoices import InvoicePaid, PaymentReceived
from shared_schemas.http.pagination import Page
from shared_schemas.listing import Listing, SortKey, normalise, prefix_match

PAYMENT = "payment"

LISTING = Listing(
    fields={
        "created_at": SortKey(Payment.created_at, datetime),
        "received_on": SortKey(Payment.received_on, date),
    },
    id_column=Payment.id,
)


@dataclass(frozen=True)
class PaymentRequest:
    invoice_id: uuid.UUID
    amount: Decimal
    method: str
    reference: str | None = None
    received_on: date | None = None


async def record_payment(uow: UnitOfWork, request: PaymentRequest) -> tuple[Payment, Invoice]:
    """Apply a payment to an unpaid invoice: Dr cash (cash) or bank (any other method) /
    Cr receivables, dated the day it was received; the invoice becomes partially_paid or
    paid. Publishes erp.payment.received.v1, and erp.invoice.paid.v1 when nothing is due
    any more (paid on the latest day any of its payments was received). 422 for more than
    is due; 409 for a paid or void invoice."""
    async with uow:
        session = uow.session
        today = ledger.today(uow)
        received_on = request.received_on or today
        if received_on > today:
            raise RuleViolation(
                "A payment cannot be received in the future.",
                [{"field": "received_on", "message": f"on or before {today}"}],
            )
        invoice = await session.get(
            Invoice, request.invoice_id, with_for_update=True, populate_existing=True
        )
        if invoice is None:
            raise NotFound("invoice", request.invoice_id)
        due = amount_due(invoice)
        status = status_after_payment(invoice.status, due - request.amount)
        check_payment(request.amount, due)
        if received_on < invoice.issued_on:
            raise RuleViolation(
                "A payment cannot be received before its invoice was issued.",
                [{"field": "received_on", "message": f"on or after {invoice.issued_on}"}],
            )
        payment = Payment(
            id=uuid.uuid4(),
            invoice_id=invoice.id,
            customer_id=invoice.customer_id,
            amount=request.amount,
            currency=invoice.currency,
            method=request.method,
            reference=request.reference,
            reference_key=normalise(request.reference),
            received_on=received_on,
            created_by=uow.actor,
        )
        session.add(payment)
        invoice.amount_paid += request.amount
        invoice.status = status
        account = CASH if request.method in CASH_METHODS else BANK
        await ledger.post_entry(
            uow,
            [Posting.dr(account, request.amount), Posting.cr(RECEIVABLES, request.amount)],
            source_type=PAYMENT,
            source_id=payment.id,
            reference=request.reference or invoice.number,
            memo=f"Payment on {invoice.number}",
            entry_date=received_on,
        )
        await session.flush()
        header = invoice_header(invoice)
        await uow.record(
            PaymentReceived(
                **header,
                payment_id=payment.id,
                amount=payment.amount,
                received_on=received_on,
                method=payment.method,
                reference=payment.reference,
            )
        )
        if invoice.status == PAID:
            # Paid the day the last of the money arrived: a settling payment dated back
            # before an earlier one does not make the invoice paid any sooner.
            paid_on = await session.scalar(
                select(func.max(Payment.received_on)).where(Payment.invoice_id == invoice.id)
            )
            await uow.record(
                InvoicePaid(**header, payment_id=payment.id, paid_on=paid_on or received_on)
            )
    return payment, invoice


async def invoice_of(session: AsyncSession, payment: Payment) -> Invoice:
    """The payment's invoice with its lines."""
    return await get_invoice(session, payment.invoice_id)


async def get_payment(session: AsyncSession, payment_id: uuid.UUID) -> Payment:
    payment = await session.get(Payment, payment_id)
    if payment is None:
        raise NotFound("payment", payment_id)
    return payment


@dataclass(frozen=True)
class PaymentFilters:
    invoice_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    # Days, both ends included.
    received_from: date | None = None
    received_to: date | None = None
    methods: list[str] = field(default_factory=list)
    q: str | None = None


async def list_payments(
    session: AsyncSession,
    filters: PaymentFilters,
    sort: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Payment]:
    conditions: list[ColumnElement[bool]] = []
    if filters.invoice_id:
        conditions.append(Payment.invoice_id == filters.invoice_id)
    if filters.customer_id:
        conditions.append(Payment.customer_id == filters.customer_id)
    if filters.created_from:
        conditions.append(Payment.created_at >= filters.created_from)
    if filters.created_to:
        conditions.append(Payment.created_at < filters.created_to)
    if filters.received_from:
        conditions.append(Payment.received_on >= filters.received_from)
    if filters.received_to:
        conditions.append(Payment.received_on <= filters.received_to)
    if filters.methods:
        conditions.append(Payment.method.in_(filters.methods))
    if filters.q:
        conditions.append(prefix_match(Payment.reference_key, filters.q))
    query = select(Payment).where(and_(*conditions)) if conditions else select(Payment)
    rows = list(await session.scalars(LISTING.apply(query, sort, cursor, limit)))
    return LISTING.page(rows, limit, sort)
