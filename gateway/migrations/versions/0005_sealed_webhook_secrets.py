"""Webhook secrets are sealed at rest: `secret` (in clear) becomes `sealed_secret`, the
secret encrypted under the first of GATEWAY_WEBHOOK_SECRET_KEYS (the development key when
none is set outside production). The migration therefore needs the gateway's settings,
as the gateway's processes do.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from gateway.config import Settings
from gateway.service.webhook_secrets import secret_box_for

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUBSCRIPTIONS = sa.table(
    "webhook_subscriptions",
    sa.column("id", sa.Uuid()),
    sa.column("secret", sa.String(200)),
    sa.column("sealed_secret", sa.Text()),
)


def _copy(source: str, target: str, convert: Callable[[str], str]) -> None:
    connection = op.get_bind()
    column = SUBSCRIPTIONS.c[source]
    for row_id, value in connection.execute(sa.select(SUBSCRIPTIONS.c.id, column)).all():
        connection.execute(
            SUBSCRIPTIONS.update()
            .where(SUBSCRIPTIONS.c.id == row_id)
            .values({target: convert(value)})
        )


def upgrade() -> None:
    box = secret_box_for(Settings())
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.add_column(sa.Column("sealed_secret", sa.Text(), nullable=True))
    _copy("secret", "sealed_secret", box.seal)
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.alter_column("sealed_secret", existing_type=sa.Text(), nullable=False)
        batch.drop_column("secret")


def downgrade() -> None:
    box = secret_box_for(Settings())
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.add_column(sa.Column("secret", sa.String(length=200), nullable=True))
    _copy("sealed_secret", "secret", box.open)
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.alter_column("secret", existing_type=sa.String(length=200), nullable=False)
        batch.drop_column("sealed_secret")
