"""ERP people: departments and employees.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_KEY = sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql")
EMAIL_KEY = sa.String(length=320).with_variant(sa.String(length=320, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", SEARCH_KEY, nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["departments.id"], name=op.f("fk_departments_parent_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("name_key", name=op.f("uq_departments_name_key")),
    )
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.create_index("ix_departments_created", ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_departments_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "employees",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", SEARCH_KEY, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_key", EMAIL_KEY, nullable=False),
        sa.Column("department_id", sa.Uuid(), nullable=True),
        sa.Column("manager_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("hired_on", sa.Date(), nullable=False),
        sa.Column("salary", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("terminated_on", sa.Date(), nullable=True),
        sa.Column("termination_reason", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("salary >= 0", name=op.f("ck_employees_salary_not_negative")),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_employees_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["employees.id"], name=op.f("fk_employees_manager_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employees")),
        sa.UniqueConstraint("email_key", name=op.f("uq_employees_email_key")),
    )
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.create_index("ix_employees_created", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_employees_name", ["name_key", "id"], unique=False)
        batch_op.create_index("ix_employees_hired", ["hired_on", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_employees_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_employees_manager_id"), ["manager_id"], unique=False)


def downgrade() -> None:
    op.drop_table("employees")
    op.drop_table("departments")
