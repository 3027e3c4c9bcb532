"""A cost change's journal entry names its product as its source document (`source_id`),
as every other automatic entry names its document. A product changes cost many times, so
the one-entry-per-source index leaves cost changes out; entries posted before name their
product through their reference, the product's sku (which never changes).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ONE_PER_SOURCE = "source_id IS NOT NULL AND source_type <> 'cost_change'"
_ONE_PER_SOURCE_BEFORE = "source_id IS NOT NULL"


def _one_entry_per_source(where: str) -> None:
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index("uq_journal_entries_source")
        batch_op.create_index(
            "uq_journal_entries_source",
            ["source_type", "source_id"],
            unique=True,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )


def upgrade() -> None:
    _one_entry_per_source(_ONE_PER_SOURCE)
    op.execute(
        sa.text(
            "UPDATE journal_entries SET source_id = "
            "(SELECT products.id FROM products WHERE products.sku = journal_entries.reference) "
            "WHERE source_type = 'cost_change' AND source_id IS NULL"
        )
    )


def downgrade() -> None:
    # The older index holds one entry per source: cost changes go back to the sku alone.
    op.execute(
        sa.text("UPDATE journal_entries SET source_id = NULL WHERE source_type = 'cost_change'")
    )
    _one_entry_per_source(_ONE_PER_SOURCE_BEFORE)
