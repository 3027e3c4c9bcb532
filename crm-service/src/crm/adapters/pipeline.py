"""Tables of the sales pipeline: leads and opportunities."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Date, Index, Integer, String, Text, Uuid, func, literal_column
from sqlalchemy.orm import Mapped, mapped_column

from crm.adapters.orm import Base, Record
from shared_schemas.database import MONEY, UtcDateTime
from shared_schemas.listing import SearchKey


class Lead(Record, Base):
    __tablename__ = "leads"

    name: Mapped[str] = mapped_column(String(200))  # the person
    name_key: Mapped[str] = mapped_column(SearchKey)
    company_name: Mapped[str | None] = mapped_column(String(200))
    company_key: Mapped[str | None] = mapped_column(SearchKey)
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(SearchKey)
    phone: Mapped[str | None] = mapped_column(String(50))
    source: Mapped[str | None] = mapped_column(String(50))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    disqualification_reason: Mapped[str | None] = mapped_column(String(500))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # What the lead became (set by conversion).
    customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    opportunity_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    converted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (
        Index("ix_leads_created", "created_at", "id"),
        Index("ix_leads_status", "status", "created_at", "id"),
        Index("ix_leads_owner", "owner_id", "created_at", "id"),
        Index("ix_leads_name", "name_key", "id"),
        Index("ix_leads_email", "email_key", "id"),
        Index("ix_leads_company", "company_key", "id"),
        Index("ix_leads_source", "source", "created_at", "id"),
        Index("ix_leads_updated", "updated_at", "id"),
    )


class Opportunity(Record, Base):
    __tablename__ = "opportunities"

    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(SearchKey)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    lead_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    stage: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    probability: Mapped[int] = mapped_column(Integer)
    expected_close_date: Mapped[date | None] = mapped_column(Date)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    loss_reason: Mapped[str | None] = mapped_column(String(500))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (
        Index("ix_opportunities_created", "created_at", "id"),
        Index("ix_opportunities_stage", "stage", "created_at", "id"),
        Index("ix_opportunities_owner", "owner_id", "created_at", "id"),
        Index("ix_opportunities_customer", "customer_id", "created_at", "id"),
        Index("ix_opportunities_close", "expected_close_date"),
        Index("ix_opportunities_name", "name_key", "id"),
        Index("ix_opportunities_amount", "amount", "id"),
    )


def _close_date_or(day: str) -> ColumnElement[date]:
    # A literal, not a parameter: PostgreSQL matches a query to an index on an expression
    # only when the expression is the same, constants included.
    return func.coalesce(Opportunity.expected_close_date, literal_column(f"'{day}'", Date))


# Not the calendar's first and last day: asyncpg sends those as -infinity and infinity,
# which a cursor would then compare with instead of the day.
CLOSE_ASCENDING = _close_date_or("9999-12-30")
"""`expected_close_date`, a deal without one read as the last day: listed last ascending."""
CLOSE_DESCENDING = _close_date_or("0001-01-02")
"""`expected_close_date`, a deal without one read as the first day: listed last descending."""
NO_CLOSE_ASCENDING = date(9999, 12, 30)
NO_CLOSE_DESCENDING = date(1, 1, 2)

Index("ix_opportunities_close_ascending", CLOSE_ASCENDING, Opportunity.id)
Index("ix_opportunities_close_descending", CLOSE_DESCENDING, Opportunity.id)
