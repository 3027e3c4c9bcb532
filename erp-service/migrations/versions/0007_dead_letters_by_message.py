"""Dead letters are keyed by position and content: after a broker lost its log and
reused offsets, a new message at an old offset is a dead letter of its own.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

from shared_schemas.messaging.migration import (
    key_dead_letters_by_message_v2,
    unkey_dead_letters_by_message_v2,
)

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    key_dead_letters_by_message_v2(op)


def downgrade() -> None:
    unkey_dead_letters_by_message_v2(op)
