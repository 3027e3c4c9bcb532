"""The CRM under test: a client with tokens per role, and ERP's events applied through the
service's own consumer path (the harness CRM tests drive it with)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from alembic import command
from alembic.config import Config
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.adapters.orm import messaging
from shared_schemas.events.base import EventData, new_event
from shared_schemas.events.erp.employees import EmployeeHired, EmployeeTerminated
from shared_schemas.events.erp.products import ProductCreated
from shared_schemas.identity import TokenSigner
from shared_schemas.messaging import EventApplier, Outcome
from shared_schemas.roles import Role

CRM_ROOT = Path(__file__).resolve().parents[2] / "crm-service"


class Crm:
    """The CRM under test, driven the way the gateway and ERP drive it."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        applier: EventApplier,
        signer: TokenSigner,
        engine: AsyncEngine,
    ) -> None:
        self.client = client
        self.applier = applier
        self.signer = signer
        self.engine = engine
        self.versions: dict[uuid.UUID, int] = {}

    async def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """CloudEvents the CRM recorded in its outbox, oldest first."""
        table = messaging.outbox
        query = select(table.c.payload).order_by(table.c.id)
        if event_type:
            query = query.where(table.c.event_type == event_type)
        async with self.engine.connect() as connection:
            return [json.loads(row.payload) for row in await connection.execute(query)]

    def headers(self, role: str, employee_id: uuid.UUID | None = None) -> dict[str, str]:
        token = self.signer.issue(
            subject=f"user-{role}-{employee_id or 'none'}", roles=[role], employee_id=employee_id
        )
        return {"Authorization": f"Bearer {token}"}

    async def publish(self, data: EventData) -> Outcome:
        """Apply one ERP event as the consumer would (inbox and effect in one transaction)."""
        event = new_event(data, source="erp-service", actor="erp-service")
        parsed = self.applier.parse(event.model_dump_json().encode())
        assert parsed is not None, f"the CRM does not consume {data.event_type}"
        return await self.applier.apply(*parsed)

    async def hire(
        self,
        role: str = "sales",
        *,
        manager_id: uuid.UUID | None = None,
        name: str = "Rep",
    ) -> uuid.UUID:
        employee_id = uuid.uuid4()
        self.versions[employee_id] = 1
        await self.publish(
            EmployeeHired(
                version=1,
                employee_id=employee_id,
                name=name,
                email=f"{employee_id.hex[:8]}@company.example",
                department_id=None,
                manager_id=manager_id,
                title=None,
                role=Role(role),
                hired_on=date(2026, 1, 5),
            )
        )
        return employee_id

    async def terminate(self, employee_id: uuid.UUID, *, manager_id: uuid.UUID | None) -> None:
        self.versions[employee_id] += 1
        await self.publish(
            EmployeeTerminated(
                version=self.versions[employee_id],
                employee_id=employee_id,
                name="Leaver",
                email=f"{employee_id.hex[:8]}@company.example",
                department_id=None,
                manager_id=manager_id,
                title=None,
                role=Role.SALES,
                hired_on=date(2026, 1, 5),
                terminated_on=date(2026, 11, 20),
            )
        )

    async def product(
        self, sku: str, unit_price: str = "100.00", tax_rate: str = "19", *, active: bool = True
    ) -> uuid.UUID:
        product_id = uuid.uuid4()
        await self.publish(
            ProductCreated(
                version=1,
                product_id=product_id,
                sku=sku,
                name=f"Product {sku}",
                unit_price=Decimal(unit_price),
                currency="EUR",
                tax_rate=Decimal(tax_rate),
                cost=Decimal("1.00"),
                reorder_point=0,
                active=active,
            )
        )
        return product_id


async def migrate(database_url: str) -> None:
    config = Config(str(CRM_ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", database_url)
    await asyncio.to_thread(command.upgrade, config, "head")
