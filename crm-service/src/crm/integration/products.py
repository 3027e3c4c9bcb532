"""`erp.product.*` → the product replica quotes price their lines from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.replicas import ProductReplica
from crm.config import Settings
from shared_schemas.events.base import CloudEvent, EventData
from shared_schemas.events.erp.products import ProductCreated, ProductUpdated
from shared_schemas.messaging import Handler, Outcome


async def apply_product(session: AsyncSession, event: CloudEvent[Any]) -> Outcome | None:
    data = event.data
    product = await session.get(ProductReplica, data.product_id)
    if product is not None and product.version >= data.version:
        return Outcome.SUPERSEDED
    if product is None:
        product = ProductReplica(id=data.product_id)
        session.add(product)
    product.sku = data.sku
    product.name = data.name
    product.unit_price = data.unit_price
    product.currency = data.currency
    product.tax_rate = data.tax_rate
    product.active = data.active
    product.version = data.version
    product.updated_at = event.time
    return None


def handlers(_settings: Settings) -> Mapping[type[EventData], Handler]:
    return {ProductCreated: apply_product, ProductUpdated: apply_product}
