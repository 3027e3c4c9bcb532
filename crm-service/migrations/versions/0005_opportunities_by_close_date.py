"""Opportunities sort by expected close date, those without one last both ways: an index
per direction on the date (without one: a day near the calendar's end, resp. start)
and the id.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_opportunities_close_ascending": "coalesce(expected_close_date, '9999-12-30')",
    "ix_opportunities_close_descending": "coalesce(expected_close_date, '0001-01-02')",
}


def upgrade() -> None:
    for name, key in _INDEXES.items():
        op.create_index(name, "opportunities", [sa.text(key), "id"], unique=False)


def downgrade() -> None:
    for name in _INDEXES:
        op.drop_index(name, table_name="opportunities")
