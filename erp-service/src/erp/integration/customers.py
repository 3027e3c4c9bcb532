"""`crm.customer.*` → the customer replica orders check credit against (newest wins)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from erp.adapters.replicas import CustomerReplica
from erp.config import Settings
from shared_schemas.events.base import CloudEvent, EventData
from shared_schemas.events.crm.customers import (
    CustomerArchived,
    CustomerCreated,
    CustomerUpdated,
)
from shared_schemas.messaging import Handler, Outcome


async def apply_customer(session: AsyncSession, event: CloudEvent[Any]) -> Outcome | None:
    data = event.data
    customer = await session.get(CustomerReplica, data.customer_id)
    if customer is not None and customer.version >= data.version:
        return Outcome.SUPERSEDED
    if customer is None:
        customer = CustomerReplica(id=data.customer_id)
        session.add(customer)
    customer.kind = data.kind
    customer.name = data.name
    customer.email = data.email
    customer.phone = data.phone
    customer.billing_address = _address(data.billing_address)
    customer.shipping_address = _address(data.shipping_address)
    customer.credit_limit = data.credit_limit
    customer.payment_terms_days = data.payment_terms_days
    customer.archived = data.archived
    customer.version = data.version
    customer.updated_at = event.time
    return None


async def apply_archived(session: AsyncSession, event: CloudEvent[Any]) -> Outcome | None:
    data = event.data
    customer = await session.get(CustomerReplica, data.customer_id)
    if customer is not None and customer.version >= data.version:
        return Outcome.SUPERSEDED
    if customer is None:
        # A customer not known yet is recorded as archived at this version with no state
        # (the event carries none): its created event, arriving late, is then stale.
        customer = CustomerReplica(id=data.customer_id)
        session.add(customer)
    customer.archived = True
    customer.version = data.version
    customer.updated_at = event.time
    return None


def _address(value: Any) -> dict[str, Any] | None:
    return value.model_dump(mode="json") if value is not None else None


def handlers(_settings: Settings) -> Mapping[type[EventData], Handler]:
    return {
        CustomerCreated: apply_customer,
        CustomerUpdated: apply_customer,
        CustomerArchived: apply_archived,
    }
