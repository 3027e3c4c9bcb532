"""Duplicate detection reads a legal form written with dots ("S.A.", "B.V.", "L.L.C.") as
that legal form: the match key of every customer whose name has a dot is computed again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm.domain.customers import match_key

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000

customers = sa.table(
    "customers",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("name_match", sa.String()),
)


def upgrade() -> None:
    connection = op.get_bind()
    after = None
    while True:
        query = (
            sa.select(customers.c.id, customers.c.name, customers.c.name_match)
            .where(customers.c.name.contains(".", autoescape=True))
            .order_by(customers.c.id)
            .limit(_BATCH)
        )
        if after is not None:
            query = query.where(customers.c.id > after)
        rows = connection.execute(query).all()
        for row in rows:
            key = match_key(row.name)
            if key != row.name_match:
                connection.execute(
                    sa.update(customers).where(customers.c.id == row.id).values(name_match=key)
                )
        if len(rows) < _BATCH:
            return
        after = rows[-1].id


def downgrade() -> None:
    """Nothing to undo: the new keys match what the old ones did, and more."""
