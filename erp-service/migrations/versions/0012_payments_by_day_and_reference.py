"""Payments are selected by the day they were received (an index on it, which also serves
the list sorted by it) and found by a prefix of their reference in any case: the
reference's normalised form (`shared_schemas.listing.normalise`) in `reference_key`,
filled in for the payments recorded so far, and indexed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared_schemas.listing import normalise

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reference_key",
                sa.String(length=200).with_variant(
                    sa.String(length=200, collation="C"), "postgresql"
                ),
                nullable=True,
            )
        )
    _fill_reference_keys()
    op.create_index("ix_payments_received", "payments", ["received_on", "id"], unique=False)
    op.create_index("ix_payments_reference", "payments", ["reference_key", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_payments_reference", table_name="payments")
    op.drop_index("ix_payments_received", table_name="payments")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("reference_key")


def _fill_reference_keys() -> None:
    """In batches, by id: normalising is Python's case folding, which SQL's lower() is not."""
    connection = op.get_bind()
    pending = sa.text(
        "SELECT id, reference FROM payments WHERE reference IS NOT NULL "
        "AND reference_key IS NULL ORDER BY id LIMIT :batch"
    )
    fill = sa.text("UPDATE payments SET reference_key = :key WHERE id = :id")
    while rows := connection.execute(pending, {"batch": BATCH}).all():
        connection.execute(fill, [{"id": row.id, "key": normalise(row.reference)} for row in rows])
