"""Tables of the gateway's event history, webhook subscriptions and their deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.adapters.orm import Base
from shared_schemas.database import UtcDateTime, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class EventRecord(Base):
    """One business event the gateway consumed, kept `event_history_days` for the live
    stream to resume from and for webhook replays. `seq` is the stream's event id: it
    grows in commit order (inserts are serialised), so a reader never skips one."""

    __tablename__ = "event_history"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    type: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    time: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The CloudEvent as JSON text, sent as it is to the stream and to webhooks.
    payload: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_event_history_received_at", "received_at"),
        # Never hand out a number again, even after pruning emptied the table.
        {"sqlite_autoincrement": True},
    )


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    url: Mapped[str] = mapped_column(String(2000))
    # Exact event types, `<prefix>.*` or `*`.
    event_types: Mapped[list[str]] = mapped_column(JSON)
    # The HMAC key of the signatures, shown once at creation and kept sealed under the
    # gateway's secret keys (service/webhook_secrets.py): opened only to sign.
    sealed_secret: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Permanent failures (4xx but 408/429) in a row; a delivered event resets it.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (Index("ix_webhook_subscriptions_created", "created_at", "id"),)


class WebhookDelivery(Base):
    """One event for one subscription: pending until delivered, failed or dead. A replay
    queues a new delivery; the old one stays in the log."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event_seq: Mapped[int] = mapped_column(
        BigId, ForeignKey("event_history.seq", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_type: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_response: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        # The worker's claim: due pending deliveries, oldest due first.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        # The delivery log of a subscription, newest first.
        Index("ix_webhook_deliveries_log", "subscription_id", "created_at", "id"),
        Index("ix_webhook_deliveries_event", "event_seq"),
    )
