"""Tables of quotes and their lines."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.adapters.orm import Base, Record
from shared_schemas.database import MONEY, RATE, UtcDateTime


class Quote(Record, Base):
    __tablename__ = "quotes"

    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    opportunity_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    valid_until: Mapped[date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    subtotal: Mapped[Decimal] = mapped_column(MONEY)
    discount_total: Mapped[Decimal] = mapped_column(MONEY)
    tax_total: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # What ERP reported about the order made from this quote.
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    order_number: Mapped[str | None] = mapped_column(String(40))
    order_status: Mapped[str | None] = mapped_column(String(30))
    order_version: Mapped[int | None] = mapped_column(Integer)

    lines: Mapped[list[QuoteLine]] = relationship(
        back_populates="quote",
        cascade="all, delete-orphan",
        order_by="QuoteLine.position",
        lazy="raise",
    )

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (
        Index("ix_quotes_created", "created_at", "id"),
        Index("ix_quotes_status", "status", "created_at", "id"),
        Index("ix_quotes_customer", "customer_id", "created_at", "id"),
        Index("ix_quotes_owner", "owner_id", "created_at", "id"),
        Index("ix_quotes_opportunity", "opportunity_id"),
        Index("ix_quotes_expiry", "status", "valid_until"),
        Index("ix_quotes_valid_until", "valid_until", "id"),
        Index("ix_quotes_total", "total", "id"),
    )


class QuoteLine(Base):
    __tablename__ = "quote_lines"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    quote_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("quotes.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    product_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    name: Mapped[str | None] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    discount_pct: Mapped[Decimal] = mapped_column(RATE)
    tax_rate: Mapped[Decimal] = mapped_column(RATE)
    line_net: Mapped[Decimal] = mapped_column(MONEY)
    line_tax: Mapped[Decimal] = mapped_column(MONEY)

    quote: Mapped[Quote] = relationship(back_populates="lines", lazy="raise")

    __table_args__ = (Index("ix_quote_lines_quote", "quote_id", "position"),)
