"""Quotes sort by `valid_until` and by `total` and filter by a range of `valid_until`:
an index on each with the id.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.create_index("ix_quotes_total", ["total", "id"], unique=False)
        batch_op.create_index("ix_quotes_valid_until", ["valid_until", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.drop_index("ix_quotes_valid_until")
        batch_op.drop_index("ix_quotes_total")
