"""`crm.quote.accepted.v1` → exactly one sales order per quote, however often it arrives.

The inbox drops a redelivered event; a quote re-sent under a new event id finds its order
(quote_id is unique) and is skipped as superseded. A quote naming an sku ERP does not
know cannot become an order (every line needs its product): the handler raises, the
consumer retries and then dead-letters it, and once the product exists an admin replays
the dead letter. Products deactivated after quoting are still ordered: the customer
accepted the quote.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erp.adapters.sales import Order
from erp.config import Settings
from erp.service.orders import create_order
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.events.base import CloudEvent, EventData
from shared_schemas.events.crm.quotes import QuoteAccepted
from shared_schemas.messaging import Handler, Outcome


def handlers(settings: Settings) -> Mapping[type[EventData], Handler]:
    async def order_accepted_quote(session: AsyncSession, event: CloudEvent[Any]) -> Outcome | None:
        quote: QuoteAccepted = event.data
        existing = await session.scalar(select(Order.id).where(Order.quote_id == quote.quote_id))
        if existing is not None:
            return Outcome.SUPERSEDED
        # The consumer's transaction: the order, its events and the inbox row commit together.
        # No principal: the events name the service as actor.
        await create_order(
            UnitOfWork.joining(session, settings),
            customer_id=quote.customer_id,
            quote_id=quote.quote_id,
            currency=quote.currency,
            lines=[
                {
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "discount_pct": line.discount_pct,
                    "tax_rate": line.tax_rate,
                }
                for line in quote.lines
            ],
            customer=quote.customer,
        )
        return None

    return {QuoteAccepted: order_accepted_quote}
