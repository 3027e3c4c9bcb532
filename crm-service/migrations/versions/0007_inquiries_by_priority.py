"""Inquiries sort by priority in the order of its scale (low, normal, high, urgent): each
inquiry keeps its priority's rank on the scale (0 to 3), indexed with the id.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The scale as it stands at this revision (crm.domain.inquiries.PRIORITIES).
_SCALE = ("low", "normal", "high", "urgent")

inquiries = sa.table(
    "inquiries", sa.column("priority", sa.String()), sa.column("priority_rank", sa.SmallInteger())
)


def upgrade() -> None:
    op.add_column("inquiries", sa.Column("priority_rank", sa.SmallInteger(), nullable=True))
    rank = sa.case(
        *((inquiries.c.priority == name, rank) for rank, name in enumerate(_SCALE)), else_=1
    )
    op.execute(sa.update(inquiries).values(priority_rank=rank))
    with op.batch_alter_table("inquiries", schema=None) as batch_op:
        batch_op.alter_column("priority_rank", existing_type=sa.SmallInteger(), nullable=False)
        batch_op.create_index("ix_inquiries_priority", ["priority_rank", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inquiries", schema=None) as batch_op:
        batch_op.drop_index("ix_inquiries_priority")
        batch_op.drop_column("priority_rank")
