"""`erp.order.shipped.v1` → the shipment's invoice, exactly once however often the event
arrives. The ERP consumes its own event so a shipment commits without waiting for
invoicing, and an invoice that cannot be issued yet is retried, never lost."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from erp.config import Settings
from erp.service.invoices import issue_for_shipment
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.events.base import CloudEvent, EventData
from shared_schemas.events.erp.orders import OrderShipped
from shared_schemas.messaging import Handler, Outcome


def handlers(settings: Settings) -> Mapping[type[EventData], Handler]:
    async def invoice_shipment(session: AsyncSession, event: CloudEvent[Any]) -> Outcome | None:
        shipped: OrderShipped = event.data
        invoice = await issue_for_shipment(
            UnitOfWork.joining(session, settings), shipped.shipment_id
        )
        return Outcome.SUPERSEDED if invoice is None else None

    return {OrderShipped: invoice_shipment}
