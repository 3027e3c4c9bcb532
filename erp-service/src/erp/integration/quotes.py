"""`crm.quote.accepted.v1` → exactly one sales order per quote, however often it arrives.

The inbox drops a redelivered event; a quote re-sent under a new event id finds its order
(quote_id is unique) and is skipped as superseded. A run of accepted quotes becomes its
orders in one set-based step (`create_orders`), the way a backlog drains fast. A quote
naming an sku ERP does not know cannot become an order (every line needs its product):
the handler raises, the consumer retries and then dead-letters it, and once the product
exists an admin replays the dead letter. Products deactivated after quoting are still
ordered: the customer accepted the quote.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erp.adapters.sales import Order
from erp.config import Settings
from erp.service.orders import OrderRequest, create_orders
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.events.base import CloudEvent, EventData
from shared_schemas.events.crm.quotes import QuoteAccepted
from shared_schemas.messaging import Handler, Outcome, batched, context_of


def handlers(settings: Settings) -> Mapping[type[EventData], Handler]:
    async def order_accepted_quotes(
        session: AsyncSession, events: Sequence[CloudEvent[Any]]
    ) -> list[Outcome | None]:
        quotes: list[QuoteAccepted] = [event.data for event in events]
        ordered = set(
            await session.scalars(
                select(Order.quote_id).where(Order.quote_id.in_({q.quote_id for q in quotes}))
            )
        )
        outcomes: list[Outcome | None] = []
        requests = []
        for event, quote in zip(events, quotes, strict=True):
            if quote.quote_id in ordered:
                outcomes.append(Outcome.SUPERSEDED)
                continue
            ordered.add(quote.quote_id)
            outcomes.append(Outcome.APPLIED)
            requests.append(
                OrderRequest(
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
                    context=context_of(event),
                )
            )
        if requests:
            # The consumer's transaction: the orders, their events and the inbox rows
            # commit together. No principal: the events name the service as actor.
            await create_orders(UnitOfWork.joining(session, settings), requests)
        return outcomes

    return {QuoteAccepted: batched(order_accepted_quotes)}
