"""The ERP under test: a client with tokens per role, CRM's events applied through the
service's own consumer path, and shortcuts that build real records through the API."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from erp.adapters.orm import messaging
from shared_schemas.events.crm.customers import CustomerCreated
from shared_schemas.identity import TokenSigner
from shared_schemas.messaging import EventApplier
from tests.support.harness import ServiceHarness
from tests.support.harness import migrate as migrate_service


async def migrate(database_url: str) -> None:
    await migrate_service("erp-service", database_url)


class Erp(ServiceHarness):
    """The ERP under test, driven the way the gateway and CRM drive it."""

    peer = "crm-service"

    def __init__(
        self,
        client: httpx.AsyncClient,
        applier: EventApplier,
        signer: TokenSigner,
        engine: AsyncEngine,
    ) -> None:
        super().__init__(client, applier, signer, engine, messaging.outbox)

    async def post(self, path: str, body: Any = None, role: str = "admin") -> dict[str, Any]:
        response = await self.client.post(path, json=body, headers=self.headers(role))
        assert response.is_success, f"POST {path}: {response.status_code} {response.text}"
        return dict(response.json())

    async def warehouse(self, code: str = "MAIN", *, default: bool = False) -> dict[str, Any]:
        body = {"code": code, "name": f"Warehouse {code}", "is_default": default}
        return await self.post("/warehouses", body, role="warehouse")

    async def product(
        self,
        sku: str,
        unit_price: str = "100.00",
        *,
        cost: str = "60.00",
        tax_rate: str = "19",
        reorder_point: int = 0,
    ) -> dict[str, Any]:
        body = {
            "sku": sku,
            "name": f"Product {sku}",
            "unit_price": unit_price,
            "tax_rate": tax_rate,
            "cost": cost,
            "reorder_point": reorder_point,
        }
        return await self.post("/products", body, role="warehouse")

    async def customer(
        self,
        *,
        credit_limit: str | None = None,
        version: int = 1,
        customer_id: uuid.UUID | None = None,
        name: str = "Acme GmbH",
    ) -> uuid.UUID:
        """A customer known to ERP's replica, as CRM would announce it."""
        customer_id = customer_id or uuid.uuid4()
        await self.publish(
            CustomerCreated(
                version=version,
                customer_id=customer_id,
                kind="company",
                name=name,
                email="buy@acme.example",
                owner_id=None,
                credit_limit=Decimal(credit_limit) if credit_limit is not None else None,
                payment_terms_days=30,
            )
        )
        return customer_id
