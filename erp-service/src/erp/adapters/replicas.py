"""Read-only copies of what CRM owns, fed by its events: the customers orders are for."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from erp.adapters.orm import Base
from shared_schemas.database import MONEY, UtcDateTime


class CustomerReplica(Base):
    """A customer as CRM last reported it, at `version`.

    An archive event for a customer whose state has not arrived yet leaves a row of its
    own: archived at that version and nothing else known (kind, name and payment terms
    are null), so an older created or updated event arriving later is stale, not a
    customer back from the archive."""

    __tablename__ = "customers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str | None] = mapped_column(String(10))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # In the company currency; null means no limit.
    credit_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    payment_terms_days: Mapped[int | None] = mapped_column(Integer)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @property
    def has_state(self) -> bool:
        """Whether the row holds the customer's state, not only that it was archived."""
        return self.name is not None
