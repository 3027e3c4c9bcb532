"""The employees ERP announced as terminated: no user is linked to one afterwards.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# How the users of a terminated employee were disabled (gateway.integration.employees).
REASON_PREFIX = "employee terminated on "


def upgrade() -> None:
    op.create_table(
        "terminated_employees",
        sa.Column("employee_id", sa.Uuid(), nullable=False),
        sa.Column("terminated_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("employee_id", name=op.f("pk_terminated_employees")),
    )
    # The employees whose users the gateway disabled for a termination have left: known
    # from those users, their day from the reason written then.
    day = f"SUBSTR(disabled_reason, {len(REASON_PREFIX) + 1}, 10)"
    if op.get_bind().dialect.name == "postgresql":
        day = f"CAST({day} AS DATE)"
    # Built from this module's constants only.
    op.execute(
        "INSERT INTO terminated_employees (employee_id, terminated_on, recorded_at) "  # noqa: S608
        f"SELECT employee_id, MIN({day}), MIN(disabled_at) FROM users "
        "WHERE employee_id IS NOT NULL AND disabled "
        f"AND disabled_reason LIKE '{REASON_PREFIX}%' GROUP BY employee_id"
    )


def downgrade() -> None:
    op.drop_table("terminated_employees")
