"""Journal entries are listed by date or time and then by number, so the indexes of those
lists end in the entry number (`seq`) instead of the random id.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_entries_date")
        batch_op.drop_index("ix_journal_entries_created")
        batch_op.create_index("ix_journal_entries_created", ["created_at", "seq"], unique=False)
        batch_op.create_index("ix_journal_entries_date", ["entry_date", "seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_entries_date")
        batch_op.drop_index("ix_journal_entries_created")
        batch_op.create_index("ix_journal_entries_created", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_journal_entries_date", ["entry_date", "id"], unique=False)
