"""The tables of the exactly-once machinery, attached to a service's own MetaData: outbox,
inbox, dead letters, periodic-job runs and HTTP idempotency keys."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)

from shared_schemas.http.idempotency import idempotency_table

# Rows are claimed by relays per key bucket, so the bucket of a key must never change:
# this count is part of the stored data, not a tuning knob.
KEY_BUCKETS = 16

BigId = BigInteger().with_variant(Integer(), "sqlite")


def key_bucket(key: str) -> int:
    return zlib.crc32(key.encode()) % KEY_BUCKETS


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table
    job_runs: Table
    dead_letters: Table
    idempotency_keys: Table


def messaging_tables(metadata: MetaData) -> MessagingTables:
    """Define the three messaging tables on `metadata` (call once per service)."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", Uuid, nullable=False),
        UniqueConstraint("event_id", name="uq_outbox_event_id"),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("bucket", SmallInteger, nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("headers", JSON, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Index(
            "ix_outbox_pending",
            "bucket",
            "id",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
        Index("ix_outbox_created_at", "created_at"),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer_group", String(200), nullable=False),
        Column("event_id", Uuid, nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("subject", String(200), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("consumer_group", "event_id", name="pk_inbox"),
        Index("ix_inbox_processed_at", "processed_at"),
    )
    job_runs = Table(
        "job_runs",
        metadata,
        Column("name", String(200), primary_key=True),
        Column("last_started_at", DateTime(timezone=True), nullable=True),
        Column("last_finished_at", DateTime(timezone=True), nullable=True),
        Column("last_error", Text, nullable=True),
    )
    dead_letters = Table(
        "dead_letters",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("consumer_group", String(200), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("key", String(200), nullable=True),
        Column("value", LargeBinary, nullable=False),
        # SHA-256 of `value`: a redone record is the same letter, while another message
        # at a reused position (a broker that lost its log starts offsets anew) is not.
        Column("value_digest", String(64), nullable=False),
        UniqueConstraint(
            "consumer_group",
            "topic",
            "partition",
            "offset",
            "value_digest",
            name="uq_dead_letters_message",
        ),
        Column("event_id", String(64), nullable=True),
        Column("event_type", String(200), nullable=True),
        Column("reason", String(20), nullable=False),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("failed_at", DateTime(timezone=True), nullable=False),
        # pending until replayed; then the replay's outcome: applied | duplicate | superseded
        Column("status", String(20), nullable=False),
        Column("replayed_at", DateTime(timezone=True), nullable=True),
        Column("replay_error", Text, nullable=True),
        Index("ix_dead_letters_status", "status", "id"),
    )
    return MessagingTables(
        outbox=outbox,
        inbox=inbox,
        job_runs=job_runs,
        dead_letters=dead_letters,
        idempotency_keys=idempotency_table(metadata),
    )
