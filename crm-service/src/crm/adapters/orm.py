"""The CRM service's MetaData: its declarative base, the platform tables (outbox, inbox,
dead letters, jobs, idempotency keys) and its document number sequences."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import MetaData, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from crm.config import SERVICE_NAME
from shared_schemas.database import NAMING_CONVENTION, UtcDateTime
from shared_schemas.messaging import Outbox, messaging_tables
from shared_schemas.numbering import sequences_table


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Record:
    """Columns every CRM record has: id, optimistic-concurrency version, timestamps."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )


messaging = messaging_tables(Base.metadata)
outbox = Outbox(messaging.outbox, source=SERVICE_NAME)
document_sequences = sequences_table(Base.metadata)
