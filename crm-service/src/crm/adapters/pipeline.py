"""Tables of the sales pipeline: leads and opportunities."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Index, Integer, String, Text, Uuid
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
