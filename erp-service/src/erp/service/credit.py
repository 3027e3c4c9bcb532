"""A customer's credit exposure: what they owe or will owe, counted against their limit."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from erp.adapters.sales import Order
from erp.domain.orders import OPEN_STATUSES
from shared_schemas.money import ZERO, cents


async def exposure(session: AsyncSession, customer_id: uuid.UUID) -> Decimal:
    """The uninvoiced part of the customer's open orders plus their unpaid invoices.

    Invoices arrive with ERP part 2; until then only orders count.
    """
    uninvoiced = await session.scalar(
        select(func.coalesce(func.sum(Order.total - Order.invoiced_total), 0)).where(
            Order.customer_id == customer_id, Order.status.in_(OPEN_STATUSES)
        )
    )
    # SQLite sums decimals as floating point: back to exact cents.
    return cents(Decimal(str(uninvoiced))) if uninvoiced else ZERO
