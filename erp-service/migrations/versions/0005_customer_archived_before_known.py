"""The customer replica may hold a customer known only as archived: an archive event that
arrived before the customer's state leaves a row with kind, name and payment terms null.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATE = (
    ("kind", sa.String(length=10)),
    ("name", sa.String(length=200)),
    ("payment_terms_days", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        for column, type_ in _STATE:
            batch_op.alter_column(column, existing_type=type_, nullable=True)


def downgrade() -> None:
    # The older schema cannot hold a customer known only as archived: such rows go, and
    # the customer's next event (or a quote's snapshot) brings it back.
    op.execute(sa.text("DELETE FROM customers WHERE name IS NULL OR kind IS NULL"))
    with op.batch_alter_table("customers", schema=None) as batch_op:
        for column, type_ in _STATE:
            batch_op.alter_column(column, existing_type=type_, nullable=False)
