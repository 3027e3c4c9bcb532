"""`crm.customer.*` → the customer replica orders check credit against (newest wins:
each write decides on the version under the row's lock, see `lock_customers`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from erp.adapters.replicas import NO_STATE, CustomerReplica, lock_customers
from erp.config import Settings
from shared_schemas.events.base import CloudEvent, EventData
from shared_schemas.events.crm.customers import (
    CustomerArchived,
    CustomerCreated,
    CustomerState,
    CustomerUpdated,
)
from shared_schemas.messaging import Handler, Outcome


async def apply_customer(session: AsyncSession, event: CloudEvent[Any]) -> Outcome | None:
    """Created, updated and archived alike: a newer version's state replaces the row's.
    An archive published before archive events carried the state brings only the flag:
    the row keeps what it knew (nothing, for a customer not known yet, whose older events
    arriving later are then stale)."""
    data: CustomerState | CustomerArchived = event.data
    customer = await _locked(session, data.customer_id)
    if customer.version >= data.version:
        return Outcome.SUPERSEDED
    if isinstance(data, CustomerState) or data.carries_state:
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


async def _locked(session: AsyncSession, customer_id: uuid.UUID) -> CustomerReplica:
    """The customer's replica row, locked; an empty one (version 0) if it is new."""
    locked = await lock_customers(session, [customer_id], create={customer_id: NO_STATE})
    return locked[customer_id]


def _address(value: Any) -> dict[str, Any] | None:
    return value.model_dump(mode="json") if value is not None else None


def handlers(_settings: Settings) -> Mapping[type[EventData], Handler]:
    return {
        CustomerCreated: apply_customer,
        CustomerUpdated: apply_customer,
        CustomerArchived: apply_customer,
    }
