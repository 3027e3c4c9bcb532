"""Shipments are found by a prefix of their tracking number in any case: its normalised
form (`shared_schemas.listing.normalise`) in `tracking_key`, filled in for the shipments
made so far, and indexed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared_schemas.listing import normalise

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "tracking_key",
                sa.String(length=200).with_variant(
                    sa.String(length=200, collation="C"), "postgresql"
                ),
                nullable=True,
            )
        )
    _fill_tracking_keys()
    op.create_index("ix_shipments_tracking", "shipments", ["tracking_key", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_shipments_tracking", table_name="shipments")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_column("tracking_key")


def _fill_tracking_keys() -> None:
    """In batches, by id: normalising is Python's case folding, which SQL's lower() is not."""
    connection = op.get_bind()
    pending = sa.text(
        "SELECT id, tracking_number FROM shipments WHERE tracking_number IS NOT NULL "
        "AND tracking_key IS NULL ORDER BY id LIMIT :batch"
    )
    fill = sa.text("UPDATE shipments SET tracking_key = :key WHERE id = :id")
    while rows := connection.execute(pending, {"batch": BATCH}).all():
        connection.execute(
            fill, [{"id": row.id, "key": normalise(row.tracking_number)} for row in rows]
        )
