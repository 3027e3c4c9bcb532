"""Tables of finance: the chart of accounts, journal entries and their lines, invoices and
their lines, payments, and budgets."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.adapters.orm import Base, Record
from shared_schemas.database import MONEY, RATE, UtcDateTime
from shared_schemas.listing import SearchKey

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Account(Record, Base):
    """An account of the chart; `system_key` names the ones postings are made to."""

    __tablename__ = "accounts"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # asset | liability | equity | revenue | expense
    type: Mapped[str] = mapped_column(String(20))
    system_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __mapper_args__ = {"version_id_col": Record.version}


_ONE_ENTRY_PER_SOURCE = "source_id IS NOT NULL AND source_type <> 'cost_change'"


class JournalEntry(Base):
    """A posted entry: never updated or deleted; corrected by a reversing entry.

    Numbered by the database (`seq`, shown as `JE-000042`): entries are posted by most
    business transactions, and a counter row would make them all queue on it."""

    __tablename__ = "journal_entries"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    entry_date: Mapped[date] = mapped_column(Date)
    memo: Mapped[str | None] = mapped_column(String(500))
    # What caused it: manual, stock_movement, cost_change, shipment, invoice,
    # invoice_void, payment, reversal; and that document's id and human reference.
    source_type: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reference: Mapped[str | None] = mapped_column(String(100))
    # The entry this one reverses; an entry is reversed at most once.
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("journal_entries.id"), unique=True
    )
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    lines: Mapped[list[JournalLine]] = relationship(
        back_populates="entry", order_by="JournalLine.seq", lazy="raise"
    )

    @property
    def number(self) -> str:
        return f"JE-{self.seq:06d}"

    __table_args__ = (
        # Listed by date or time, then by number: a journal is read in posting order.
        Index("ix_journal_entries_date", "entry_date", "seq"),
        Index("ix_journal_entries_created", "created_at", "seq"),
        # One automatic entry per source document and kind, whatever the redeliveries; a
        # product is revalued many times, so cost changes are left out.
        Index(
            "uq_journal_entries_source",
            "source_type",
            "source_id",
            unique=True,
            postgresql_where=text(_ONE_ENTRY_PER_SOURCE),
            sqlite_where=text(_ONE_ENTRY_PER_SOURCE),
        ),
    )


class JournalLine(Base):
    __tablename__ = "journal_lines"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("journal_entries.id"))
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("accounts.id"))
    # Copied from the entry so reports by date read one table.
    entry_date: Mapped[date] = mapped_column(Date)
    debit: Mapped[Decimal] = mapped_column(MONEY)
    credit: Mapped[Decimal] = mapped_column(MONEY)
    description: Mapped[str | None] = mapped_column(String(500))

    entry: Mapped[JournalEntry] = relationship(back_populates="lines", lazy="raise")

    __table_args__ = (
        CheckConstraint("debit >= 0 AND credit >= 0", name="amounts_not_negative"),
        CheckConstraint("(debit = 0) <> (credit = 0)", name="one_side"),
        Index("ix_journal_lines_entry", "entry_id", "seq"),
        Index("ix_journal_lines_account", "account_id", "entry_date"),
    )


class Invoice(Record, Base):
    __tablename__ = "invoices"

    number: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("orders.id"))
    # One invoice per shipment, whatever the redeliveries of its event.
    shipment_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("shipments.id"), unique=True)
    quote_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    customer_name: Mapped[str] = mapped_column(String(200))
    # issued | partially_paid | paid | void
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[Decimal] = mapped_column(MONEY)
    discount_total: Mapped[Decimal] = mapped_column(MONEY)
    tax_total: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)
    amount_paid: Mapped[Decimal] = mapped_column(MONEY)
    issued_on: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    # The day erp.invoice.overdue.v1 was published (once per invoice).
    overdue_notified_on: Mapped[date | None] = mapped_column(Date)
    void_reason: Mapped[str | None] = mapped_column(String(500))
    voided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice",
        cascade="all, delete-orphan",
        order_by="InvoiceLine.position",
        lazy="raise",
    )

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (
        CheckConstraint("amount_paid >= 0 AND amount_paid <= total", name="paid_within_total"),
        # Lists break ties by number (service/invoices.py).
        Index("ix_invoices_created", "created_at", "number"),
        Index("ix_invoices_issued", "issued_on", "number"),
        Index("ix_invoices_due", "due_date", "number"),
        Index("ix_invoices_total", "total", "number"),
        Index("ix_invoices_customer", "customer_id", "created_at", "number"),
        Index("ix_invoices_order", "order_id", "created_at"),
        Index("ix_invoices_status_due", "status", "due_date"),
    )


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    invoice_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("invoices.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    order_line_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("order_lines.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    discount_pct: Mapped[Decimal] = mapped_column(RATE)
    tax_rate: Mapped[Decimal] = mapped_column(RATE)
    line_net: Mapped[Decimal] = mapped_column(MONEY)
    line_tax: Mapped[Decimal] = mapped_column(MONEY)

    invoice: Mapped[Invoice] = relationship(back_populates="lines", lazy="raise")

    __table_args__ = (
        Index("ix_invoice_lines_invoice", "invoice_id", "position"),
        Index("ix_invoice_lines_order_line", "order_line_id"),
    )


class Payment(Record, Base):
    __tablename__ = "payments"

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("invoices.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    # bank_transfer | card | cash | cheque | direct_debit: cash lands in the cash account,
    # everything else in the bank account.
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(100))
    # `normalise(reference)`: what `q` is a prefix of.
    reference_key: Mapped[str | None] = mapped_column(SearchKey)
    received_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payments_invoice", "invoice_id", "created_at"),
        Index("ix_payments_created", "created_at", "id"),
        Index("ix_payments_received", "received_on", "id"),
        Index("ix_payments_reference", "reference_key", "id"),
    )


class Budget(Record, Base):
    """The amount planned for an account in one month (`YYYY-MM`)."""

    __tablename__ = "budgets"

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("accounts.id"))
    month: Mapped[str] = mapped_column(String(7))
    amount: Mapped[Decimal] = mapped_column(MONEY)

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (
        Index("uq_budgets_account_month", "account_id", "month", unique=True),
        Index("ix_budgets_month", "month", "account_id"),
    )
