"""Events: the gateway's event history, webhook subscriptions and deliveries (filled in by its commit).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet: the tables arrive with the code that uses them."""


def downgrade() -> None:
    """Nothing to undo yet."""
