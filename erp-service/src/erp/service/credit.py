"""Customers' credit exposure: what they owe or will owe, counted against their limit."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from erp.adapters.sales import Order
from erp.domain.orders import OPEN_STATUSES
from shared_schemas.money import cents


async def exposures(
    session: AsyncSession, customer_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Decimal]:
    """Per customer, the uninvoiced part of their open orders plus their unpaid invoices;
    customers owing nothing are left out.

    Invoices arrive with ERP part 2; until then only orders count.
    """
    if not customer_ids:
        return {}
    rows = await session.execute(
        select(Order.customer_id, func.sum(Order.total - Order.invoiced_total))
        .where(Order.customer_id.in_(customer_ids), Order.status.in_(OPEN_STATUSES))
        .group_by(Order.customer_id)
    )
    # SQLite sums decimals as floating point: back to exact cents.
    return {customer_id: cents(Decimal(str(owed))) for customer_id, owed in rows if owed}
