"""Leads filter by source and sort by their last change: indexes on (source, created_at,
id) and (updated_at, id).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index("ix_leads_source", ["source", "created_at", "id"], unique=False)
        batch_op.create_index("ix_leads_updated", ["updated_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index("ix_leads_updated")
        batch_op.drop_index("ix_leads_source")
