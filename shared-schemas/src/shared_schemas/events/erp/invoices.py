"""Contracts of the erp.invoice topic: invoices issued, paid, overdue, voided, and payments."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from shared_schemas.events.base import Currency, EventData
from shared_schemas.events.documents import DocumentTotals, InvoiceLine, check_lines_add_up
from shared_schemas.events.values import Amount

InvoiceStatus = Literal["issued", "partially_paid", "paid", "void"]


class InvoiceEvent(EventData):
    """Fields every invoice and payment event carries: the invoice and its balance after."""

    topic: ClassVar[str] = "erp.invoice"
    subject_field: ClassVar[str] = "invoice_id"

    invoice_id: uuid.UUID
    number: str = Field(description="Gapless per year.", examples=["INV-2026-000001"])
    order_id: uuid.UUID
    quote_id: uuid.UUID | None = Field(description="The CRM quote behind the order, if any.")
    customer_id: uuid.UUID
    status: InvoiceStatus = Field(description="The invoice's status after the event.")
    currency: Currency
    total: Amount
    amount_paid: Amount
    amount_due: Amount = Field(description="total - amount_paid; zero once void.")

    @model_validator(mode="after")
    def _balance_adds_up(self) -> Self:
        expected = Decimal(0) if self.status == "void" else self.total - self.amount_paid
        if self.amount_due != expected:
            raise ValueError(f"amount_due must be {expected:.2f}, got {self.amount_due:.2f}")
        if self.status == "paid" and self.amount_due != 0:
            raise ValueError("a paid invoice has nothing due")
        return self


class InvoiceIssued(InvoiceEvent, DocumentTotals):
    """An invoice was issued for a shipment (Dr receivables / Cr revenue, tax payable)."""

    event_type: ClassVar[str] = "erp.invoice.issued.v1"

    status: Literal["issued"] = "issued"
    shipment_id: uuid.UUID = Field(description="The shipment this invoice bills.")
    issued_on: date
    due_date: date = Field(description="issued_on + the customer's payment_terms_days.")
    lines: list[InvoiceLine] = Field(min_length=1)

    @model_validator(mode="after")
    def _lines_add_up(self) -> Self:
        check_lines_add_up(self.lines, self)
        return self


class InvoicePaid(InvoiceEvent):
    """An invoice was paid in full."""

    event_type: ClassVar[str] = "erp.invoice.paid.v1"

    status: Literal["paid"] = "paid"
    payment_id: uuid.UUID = Field(
        description="The payment that settled it; the nil UUID (all zeros) for an invoice of "
        "nothing, paid as it was issued, with no payment."
    )
    paid_on: date


class InvoiceOverdue(InvoiceEvent):
    """An invoice is past its due date with an amount still due."""

    event_type: ClassVar[str] = "erp.invoice.overdue.v1"

    status: Literal["issued", "partially_paid"]
    due_date: date
    days_overdue: int = Field(ge=1, description="Days past due_date, in the company time zone.")


class InvoiceVoided(InvoiceEvent):
    """An unpaid invoice was voided and its posting reversed; nothing is due on it."""

    event_type: ClassVar[str] = "erp.invoice.voided.v1"

    status: Literal["void"] = "void"
    reason: str | None = None


class PaymentReceived(InvoiceEvent):
    """A payment was applied to an invoice; published on erp.invoice, keyed by invoice id."""

    event_type: ClassVar[str] = "erp.payment.received.v1"

    version: int = Field(ge=1, description="The invoice's version after this payment.")
    status: Literal["partially_paid", "paid"]
    payment_id: uuid.UUID
    amount: Amount = Field(gt=0, description="The amount of this payment, in `currency`.")
    received_on: date
    method: str | None = Field(default=None, examples=["bank_transfer", "card", "cash"])
    reference: str | None = Field(default=None, description="Bank or card reference.")
