"""Customers' credit exposure: what they owe or will owe, counted against their limit."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from decimal import Decimal

from sqlalchemy import func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from erp.adapters.finance import Invoice
from erp.adapters.sales import Order
from erp.domain.invoicing import UNPAID, VOID
from erp.domain.orders import OPEN_STATUSES
from shared_schemas.database import from_cents, sum_in_cents


async def exposures(
    session: AsyncSession, customer_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Decimal]:
    """Per customer, the uninvoiced part of their open orders plus what their unpaid
    invoices still ask; customers owing nothing are left out.

    An order's uninvoiced part is its total less its invoices, voided ones included: a
    voided invoice's goods are not billed again, so its amount is neither owed nor yet to
    be invoiced (the order's `invoiced_total` counts it out again on void). An order's
    invoices, voided ones included, add up to at most its total, and to exactly its total
    once every unit is billed."""
    if not customer_ids:
        return {}
    voided = (
        select(Invoice.order_id, func.sum(Invoice.total).label("total"))
        .where(Invoice.customer_id.in_(customer_ids), Invoice.status == VOID)
        .group_by(Invoice.order_id)
        .subquery("voided")
    )
    uninvoiced = (
        select(
            Order.customer_id.label("customer_id"),
            (Order.total - Order.invoiced_total - func.coalesce(voided.c.total, 0)).label("owed"),
        )
        .outerjoin(voided, voided.c.order_id == Order.id)
        .where(Order.customer_id.in_(customer_ids), Order.status.in_(OPEN_STATUSES))
    )
    unpaid = select(
        Invoice.customer_id.label("customer_id"),
        (Invoice.total - Invoice.amount_paid).label("owed"),
    ).where(Invoice.customer_id.in_(customer_ids), Invoice.status.in_(UNPAID))
    both = union_all(uninvoiced, unpaid).subquery("owing")
    rows = await session.execute(
        select(both.c.customer_id, sum_in_cents(both.c.owed)).group_by(both.c.customer_id)
    )
    return {customer_id: from_cents(owed) for customer_id, owed in rows if owed}
