"""The ERP service's MetaData: its declarative base, the platform tables (outbox, inbox,
dead letters, jobs, idempotency keys) and its document number sequences."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from erp.config import SERVICE_NAME
from shared_schemas.database import NAMING_CONVENTION, Record, utcnow
from shared_schemas.messaging import Outbox, messaging_tables
from shared_schemas.numbering import sequences_table


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


messaging = messaging_tables(Base.metadata)
outbox = Outbox(messaging.outbox, source=SERVICE_NAME)
document_sequences = sequences_table(Base.metadata)

__all__ = ["Base", "Record", "document_sequences", "messaging", "outbox", "utcnow"]
