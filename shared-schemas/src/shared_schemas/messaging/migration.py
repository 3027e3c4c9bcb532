"""Frozen Alembic operations creating the messaging tables, for every service's migrations.

Each function is a snapshot: once released it never changes. A later change to the
tables gets a new function (`..._v2`) that a new migration of each service calls.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa


def create_messaging_tables_v1(op: Any) -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "outbox",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["bucket", "id"],
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"])
    op.create_table(
        "inbox",
        sa.Column("consumer_group", sa.String(200), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer_group", "event_id", name="pk_inbox"),
    )
    op.create_index("ix_inbox_processed_at", "inbox", ["processed_at"])
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_table(
        "dead_letters",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("consumer_group", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(200), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=True),
        sa.Column("event_type", sa.String(200), nullable=True),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replay_error", sa.Text(), nullable=True),
        sa.UniqueConstraint(
            "consumer_group", "topic", "partition", "offset", name="uq_dead_letters_position"
        ),
    )
    op.create_index("ix_dead_letters_status", "dead_letters", ["status", "id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def drop_messaging_tables_v1(op: Any) -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_dead_letters_status", table_name="dead_letters")
    op.drop_table("dead_letters")
    op.drop_table("job_runs")
    op.drop_index("ix_inbox_processed_at", table_name="inbox")
    op.drop_table("inbox")
    op.drop_index("ix_outbox_created_at", table_name="outbox")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")


_POSITION = ["consumer_group", "topic", "partition", "offset"]


def key_dead_letters_by_message_v2(op: Any) -> None:
    """A dead letter is one message at one position, not the position alone: after a
    broker lost its log and reused offsets, a new poison message at an old offset was
    silently not logged."""
    op.add_column("dead_letters", sa.Column("value_digest", sa.String(64), nullable=True))
    letters = sa.table(
        "dead_letters",
        sa.column("id", sa.BigInteger()),
        sa.column("value", sa.LargeBinary()),
        sa.column("value_digest", sa.String(64)),
    )
    connection = op.get_bind()
    for letter_id, value in connection.execute(sa.select(letters.c.id, letters.c.value)):
        connection.execute(
            letters.update()
            .where(letters.c.id == letter_id)
            .values(value_digest=hashlib.sha256(bytes(value)).hexdigest())
        )
    with op.batch_alter_table("dead_letters") as batch:
        batch.alter_column("value_digest", existing_type=sa.String(64), nullable=False)
        batch.drop_constraint("uq_dead_letters_position", type_="unique")
        batch.create_unique_constraint("uq_dead_letters_message", [*_POSITION, "value_digest"])


def unkey_dead_letters_by_message_v2(op: Any) -> None:
    # One letter per position again: the oldest of those sharing one is kept.
    op.execute(
        sa.text(
            "DELETE FROM dead_letters WHERE id NOT IN (SELECT MIN(id) FROM dead_letters "
            'GROUP BY consumer_group, topic, partition, "offset")'
        )
    )
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_constraint("uq_dead_letters_message", type_="unique")
        batch.create_unique_constraint("uq_dead_letters_position", _POSITION)
        batch.drop_column("value_digest")
