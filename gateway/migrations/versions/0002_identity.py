"""Identity: users of the gateway, refresh tokens, failed sign-ins (filled in by its commit).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet: the tables arrive with the code that uses them."""


def downgrade() -> None:
    """Nothing to undo yet."""
