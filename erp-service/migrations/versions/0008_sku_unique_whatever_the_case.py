"""A sku is unique whatever its case: `products.sku_key` (the sku lower-cased) is unique,
so `WIDGET-1` and `widget-1` can no longer be two products.

Products whose skus differ only in case stop the upgrade, naming them: they are two
records of one article to anyone reading the sku, and which one should keep it is a
decision for their owner (rename one, e.g. `UPDATE products SET sku = ...`, then run the
upgrade again).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sku_key", sa.String(length=64), nullable=True))
    op.execute(sa.text("UPDATE products SET sku_key = lower(sku)"))
    clashes = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT sku FROM products WHERE sku_key IN "
                "(SELECT sku_key FROM products GROUP BY sku_key HAVING count(*) > 1)"
            )
        )
        .scalars()
        .all()
    )
    clashes = sorted(clashes, key=lambda sku: (sku.lower(), sku))
    if clashes:
        raise RuntimeError(
            "Products whose skus differ only in case cannot stay apart: "
            f"{', '.join(clashes)}. Rename all but one of each and upgrade again."
        )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.alter_column("sku_key", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_products_sku_key"), ["sku_key"])


def downgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_products_sku_key"), type_="unique")
        batch_op.drop_column("sku_key")
