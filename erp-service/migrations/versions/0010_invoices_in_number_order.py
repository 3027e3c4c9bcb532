"""Invoices are listed by a date or time and then by number, so the indexes of those lists
end in the invoice number instead of the random id, and the issue and due dates they are
sorted by have theirs.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_created")
        batch_op.drop_index("ix_invoices_customer")
        batch_op.create_index("ix_invoices_created", ["created_at", "number"], unique=False)
        batch_op.create_index(
            "ix_invoices_customer", ["customer_id", "created_at", "number"], unique=False
        )
        batch_op.create_index("ix_invoices_issued", ["issued_on", "number"], unique=False)
        batch_op.create_index("ix_invoices_due", ["due_date", "number"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_due")
        batch_op.drop_index("ix_invoices_issued")
        batch_op.drop_index("ix_invoices_customer")
        batch_op.drop_index("ix_invoices_created")
        batch_op.create_index(
            "ix_invoices_customer", ["customer_id", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_invoices_created", ["created_at", "id"], unique=False)
