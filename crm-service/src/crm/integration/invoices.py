"""`erp.invoice.*` and `erp.payment.received.v1` → the invoice replica, the customer's open
balance and lifetime value, and one timeline entry per invoice or payment event."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.customers import Customer
from crm.adapters.replicas import InvoiceReplica
from crm.config import Settings
from crm.integration.orders import TimelineLine, add_to_timeline, items
from shared_schemas.events.base import CloudEvent, EventData
from shared_schemas.events.erp.invoices import (
    InvoiceEvent,
    InvoiceIssued,
    InvoiceOverdue,
    InvoicePaid,
    InvoiceVoided,
    PaymentReceived,
)
from shared_schemas.messaging import Handler, Outcome


def handlers(_settings: Settings) -> Mapping[type[EventData], Handler]:
    return {
        InvoiceIssued: apply_invoice,
        InvoicePaid: apply_invoice,
        InvoiceOverdue: apply_invoice,
        InvoiceVoided: apply_invoice,
        PaymentReceived: apply_invoice,
    }


async def apply_invoice(session: AsyncSession, event: CloudEvent[Any]) -> Outcome | None:
    """The replica takes the state of a newer version only; every event is also a fact
    the timeline shows once (per event id), whatever its version. ERP records a payment
    that settles an invoice and the invoice being paid in one transaction, under one
    version, and an issue replayed late from the dead letters still happened. The one
    fact dropped is an overdue notice about a version older than the replica's: it
    speaks of a state that no longer holds (paid or voided since). Balances are
    recomputed from the replica rows whenever the state changes, so redeliveries and
    reordering cannot make them drift."""
    data: InvoiceEvent = event.data
    invoice = await session.get(InvoiceReplica, data.invoice_id)
    if isinstance(data, InvoiceOverdue) and invoice is not None and data.version < invoice.version:
        return Outcome.SUPERSEDED
    newer = invoice is None or data.version > invoice.version
    if invoice is None:
        invoice = InvoiceReplica(id=data.invoice_id)
        session.add(invoice)
    if newer:
        invoice.number = data.number
        invoice.order_id = data.order_id
        invoice.quote_id = data.quote_id
        invoice.customer_id = data.customer_id
        invoice.status = data.status
        invoice.currency = data.currency
        invoice.total = data.total
        invoice.amount_paid = data.amount_paid
        invoice.amount_due = data.amount_due
        invoice.version = data.version
    if isinstance(data, InvoiceIssued | InvoiceOverdue):
        # Only these carry it, and it never changes: whichever arrives brings it.
        invoice.due_date = data.due_date
    await session.flush()

    if newer:
        await _recompute_balances(session, data.customer_id)
    await add_to_timeline(session, event, data.customer_id, _timeline_line(data))
    return None


async def _recompute_balances(session: AsyncSession, customer_id: uuid.UUID) -> None:
    """open_balance = Σ amount_due, lifetime_value = Σ total, over invoices not void.

    The customer row is locked first, so that of two consumers applying invoices of one
    customer at once, the later one sums after the earlier one committed. Written with a
    Core UPDATE: ERP facts leave the customer's version and updated_at alone."""
    locked = await session.scalar(
        select(Customer.id).where(Customer.id == customer_id).with_for_update()
    )
    if locked is None:
        return  # a customer CRM does not know: the replica rows are kept all the same
    totals = (
        await session.execute(
            select(
                func.coalesce(func.sum(InvoiceReplica.amount_due), 0),
                func.coalesce(func.sum(InvoiceReplica.total), 0),
            ).where(InvoiceReplica.customer_id == customer_id, InvoiceReplica.status != "void")
        )
    ).one()
    await session.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(
            open_balance=_cents(totals[0]),
            lifetime_value=_cents(totals[1]),
            updated_at=Customer.updated_at,
        )
        .execution_options(synchronize_session=False)
    )


def _cents(value: Any) -> Decimal:
    # SQLite sums NUMERIC columns as floating point; amounts have two decimals.
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _timeline_line(data: InvoiceEvent) -> TimelineLine:
    invoice = f"Invoice {data.number}"
    if isinstance(data, InvoiceIssued):
        title = f"{invoice} issued: {data.total:.2f} {data.currency}, due {data.due_date}"
        return TimelineLine(title, "invoice", data.invoice_id, items(data.lines))
    if isinstance(data, PaymentReceived):
        rest = (
            "invoice paid in full"
            if data.status == "paid"
            else f"{data.amount_due:.2f} {data.currency} still due"
        )
        title = f"Payment of {data.amount:.2f} {data.currency} received for {data.number}; {rest}"
        how = ", ".join(part for part in (data.method, data.reference) if part)
        return TimelineLine(title, "payment", data.payment_id, how or None)
    if isinstance(data, InvoicePaid):
        title = f"{invoice} paid in full: {data.total:.2f} {data.currency}"
        return TimelineLine(title, "invoice", data.invoice_id)
    if isinstance(data, InvoiceOverdue):
        days = "day" if data.days_overdue == 1 else "days"
        title = (
            f"{invoice} overdue by {data.days_overdue} {days}: "
            f"{data.amount_due:.2f} {data.currency} due since {data.due_date}"
        )
        return TimelineLine(title, "invoice", data.invoice_id)
    if isinstance(data, InvoiceVoided):
        reason = f": {data.reason}" if data.reason else ""
        return TimelineLine(f"{invoice} voided{reason}", "invoice", data.invoice_id)
    return TimelineLine(f"{invoice} is {data.status}", "invoice", data.invoice_id)
