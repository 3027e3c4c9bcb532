"""Read-only copies of what CRM owns, fed by its events: the customers orders are for."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Uuid, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from erp.adapters.orm import Base, utcnow
from shared_schemas.database import MONEY, UtcDateTime, table_of


class CustomerReplica(Base):
    """A customer as CRM last reported it, at `version`.

    Archive events carry the customer's state like the others. Only an archive published
    before they did (its id and version alone), arriving for a customer whose state has
    not, leaves a row with nothing else known (kind, name and payment terms null), so an
    older created or updated event arriving later is stale, not a customer back from the
    archive."""

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


NO_STATE: Mapping[str, Any] = {"archived": False, "version": 0}
"""A row for a customer known by id only: version 0, so any state of it is newer."""


async def lock_customers(
    session: AsyncSession,
    ids: Collection[uuid.UUID],
    *,
    create: Mapping[uuid.UUID, Mapping[str, Any]] | None = None,
) -> dict[uuid.UUID, CustomerReplica]:
    """The replica rows of `ids` that exist, locked in id order (no two transactions wait
    for each other in a circle) and read as committed now: whoever writes a customer
    decides on its version under this lock, so an older state never overwrites a newer
    one that committed meanwhile.

    A customer of `create` unknown so far is inserted first with the columns given (the
    same columns for each; `NO_STATE` for a row the caller fills before committing):
    inserting makes a concurrent creator wait for this transaction and then find the row,
    instead of failing on a duplicate key."""
    found = await _locked(session, ids)
    missing = sorted(set(create or ()) - set(found))
    if create and missing:
        insert = (
            postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        )
        now = utcnow()
        # Rows as parameters of one statement (sent as multi-row VALUES in a few round
        # trips), not rendered into its SQL: the statement compiles once and is cached.
        await session.execute(
            insert(table_of(CustomerReplica)).on_conflict_do_nothing(index_elements=["id"]),
            [
                {"updated_at": now, "archived": False, **create[customer_id], "id": customer_id}
                for customer_id in missing
            ],
        )
        found.update(await _locked(session, missing))
    return found


async def _locked(
    session: AsyncSession, ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, CustomerReplica]:
    if not ids:
        return {}
    rows = await session.scalars(
        select(CustomerReplica)
        .where(CustomerReplica.id.in_(sorted(set(ids))))
        .order_by(CustomerReplica.id)
        .with_for_update()
        # The rows as committed now, not as this session may have cached them before.
        .execution_options(populate_existing=True)
    )
    return {replica.id: replica for replica in rows}
