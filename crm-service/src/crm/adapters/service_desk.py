"""Tables of support inquiries and of activities (calls, emails, meetings, notes, visits)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index, Numeric, SmallInteger, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, validates

from crm.adapters.orm import Base, Record
from crm.domain.inquiries import PRIORITIES
from shared_schemas.database import UtcDateTime
from shared_schemas.listing import SearchKey


class Inquiry(Record, Base):
    __tablename__ = "inquiries"

    channel: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(300))
    subject_key: Mapped[str] = mapped_column(SearchKey)
    body: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(10))
    # The priority's place on its scale (0 low ... 3 urgent), set with it: what it sorts by.
    priority_rank: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    sla_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (
        Index("ix_inquiries_created", "created_at", "id"),
        Index("ix_inquiries_status", "status", "created_at", "id"),
        Index("ix_inquiries_customer", "customer_id", "created_at", "id"),
        Index("ix_inquiries_assignee", "assignee_id", "created_at", "id"),
        Index("ix_inquiries_sla", "sla_due_at", "id"),
        Index("ix_inquiries_subject", "subject_key", "id"),
        Index("ix_inquiries_priority", "priority_rank", "id"),
    )

    @validates("priority")
    def _rank(self, _key: str, priority: str) -> str:
        self.priority_rank = PRIORITIES.index(priority)
        return priority


class Activity(Record, Base):
    __tablename__ = "activities"

    kind: Mapped[str] = mapped_column(String(10))  # call | email | meeting | note | visit
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    lead_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    opportunity_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    # The employee who owns the record of it (its author, or whom the system acted for).
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    author: Mapped[str] = mapped_column(String(200))

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (
        Index("ix_activities_created", "created_at", "id"),
        Index("ix_activities_occurred", "occurred_at", "id"),
        Index("ix_activities_customer", "customer_id", "occurred_at", "id"),
        Index("ix_activities_lead", "lead_id", "occurred_at", "id"),
        Index("ix_activities_opportunity", "opportunity_id", "occurred_at", "id"),
    )
