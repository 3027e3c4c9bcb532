"""The ERP under test: a client with tokens per role, CRM's events applied through the
service's own consumer path or put on the broker for its real consumer (`live_erp`), and
shortcuts that build real records through the API."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from erp.adapters.orm import messaging
from erp.config import Settings
from erp.main import create_app
from shared_schemas.events.base import CloudEvent
from shared_schemas.events.crm.customers import CustomerCreated
from shared_schemas.events.crm.quotes import QuoteAccepted
from shared_schemas.events.documents import QuoteLine
from shared_schemas.events.values import Address, CustomerSnapshot
from shared_schemas.identity import TokenSigner
from shared_schemas.messaging import Consumer, EventApplier, KafkaSettings, Outcome
from shared_schemas.money import document_totals, line_amounts
from tests.support.harness import ServiceHarness, live_consumer
from tests.support.harness import migrate as migrate_service
from tests.support.identity import jwks_of, new_signer
from tests.support.kafka_tools import PeerOnTheBroker, until


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
        payment_terms_days: int = 30,
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
                payment_terms_days=payment_terms_days,
            )
        )
        return customer_id

    async def receive(
        self,
        sku: str,
        quantity: int,
        *,
        warehouse: str | uuid.UUID | Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A stock receipt through the API (the default warehouse unless one is named);
        the movement and the level after it."""
        body = {
            "kind": "receipt",
            "sku": sku,
            "warehouse_id": await self.warehouse_id(warehouse),
            "quantity": quantity,
        }
        return await self.post("/stock/movements", body, role="warehouse")

    async def warehouse_id(self, warehouse: str | uuid.UUID | Mapping[str, Any] | None) -> str:
        """The id of a warehouse given as an id or as the API returned it; the default
        warehouse for None."""
        if isinstance(warehouse, Mapping):
            return str(warehouse["id"])
        if warehouse is not None:
            return str(warehouse)
        listed = await self.client.get(
            "/warehouses", params={"is_default": "true"}, headers=self.headers("warehouse")
        )
        default = listed.json()["items"]
        assert default, "no default warehouse yet"
        return str(default[0]["id"])

    async def stock_level(
        self, sku: str, warehouse: str | uuid.UUID | Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """The level of `sku` in the warehouse as `GET /stock` shows it (None before any
        movement)."""
        params = {"sku": sku, "warehouse_id": await self.warehouse_id(warehouse)}
        response = await self.client.get("/stock", params=params, headers=self.headers("admin"))
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        return dict(items[0]) if items else None

    async def stock_check(self) -> dict[str, Any]:
        """`GET /stock/check`: levels recomputed from the ledger; `drift` empty when right."""
        response = await self.client.get("/stock/check", headers=self.headers("admin"))
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def order(
        self,
        customer_id: uuid.UUID,
        lines: Sequence[tuple[str, int] | Mapping[str, Any]],
        *,
        role: str = "sales",
        notes: str | None = None,
    ) -> dict[str, Any]:
        """An order through `POST /orders`; lines as (sku, quantity) or full line bodies."""
        body: dict[str, Any] = {
            "customer_id": str(customer_id),
            "lines": [
                dict(line) if isinstance(line, Mapping) else {"sku": line[0], "quantity": line[1]}
                for line in lines
            ],
        }
        if notes is not None:
            body["notes"] = notes
        return await self.post("/orders", body, role=role)

    async def get_order(self, order_id: str | uuid.UUID) -> dict[str, Any]:
        """`GET /orders/{id}` as admin."""
        response = await self.client.get(f"/orders/{order_id}", headers=self.headers("admin"))
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def orders_of_quote(self, quote_id: uuid.UUID) -> list[dict[str, Any]]:
        """`GET /orders?quote_id=...` as admin: the orders made from that quote."""
        response = await self.client.get(
            "/orders", params={"quote_id": str(quote_id)}, headers=self.headers("admin")
        )
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    async def deliver(self, event: CloudEvent[Any]) -> Outcome:
        """Apply one already-built event as the consumer would: delivering the same event
        twice is a redelivery."""
        parsed = self.applier.parse(event.model_dump_json().encode())
        assert parsed is not None, f"the service does not consume {event.type}"
        return await self.applier.apply(*parsed)

    async def invoice_shipments(self) -> list[dict[str, Any]]:
        """Deliver every `erp.order.shipped.v1` the ERP recorded to its own consumer path
        (as the consumer would; ones delivered before are duplicates), then return all
        invoices as `GET /invoices` shows them, oldest number first."""
        query = select(self.outbox.c.payload).where(
            self.outbox.c.event_type == "erp.order.shipped.v1"
        )
        async with self.engine.connect() as connection:
            payloads = [
                row.payload for row in await connection.execute(query.order_by(self.outbox.c.id))
            ]
        for payload in payloads:
            parsed = self.applier.parse(payload)
            assert parsed is not None, "the ERP does not invoice its shipments"
            await self.applier.apply(*parsed)
        response = await self.client.get(
            "/invoices", params={"limit": 200, "sort": "number"}, headers=self.headers("finance")
        )
        assert response.status_code == 200, response.text
        return list(response.json()["items"])


class LiveErp:
    """The ERP with its real consumer running against a broker, CRM's events put on the
    topics, effects read back through the HTTP API; started by `live_erp`."""

    def __init__(self, erp: Erp, crm: PeerOnTheBroker, consumer: Consumer) -> None:
        self.erp = erp
        self.crm = crm
        self.consumer = consumer
        self.client = erp.client

    async def consumed(self, event: CloudEvent[Any]) -> None:
        """Wait until the consumer has taken `event` (applied or superseded: its id is in
        the inbox), and so every event before it on its partition."""
        inbox = messaging.inbox
        query = select(inbox.c.event_id).where(
            inbox.c.consumer_group == self.consumer.group, inbox.c.event_id == event.id
        )

        async def recorded() -> Any:
            async with self.erp.engine.connect() as connection:
                return await connection.scalar(query)

        await until(recorded, lambda found: found is not None, f"{event.type} {event.id} taken")


@asynccontextmanager
async def live_erp(database_url: str, kafka: KafkaSettings) -> AsyncIterator[LiveErp]:
    """The ERP's app on a fresh database and its real consumer against the broker (see
    `live_consumer`), CRM's events put on the topics."""
    signer = new_signer("erp-live-test-key")
    settings = Settings(database_url=database_url, jwks=json.dumps(jwks_of(signer)))
    await migrate(database_url)
    app = create_app(settings)
    async with live_consumer(app, kafka, peer="crm-service") as live:
        erp = Erp(live.client, live.workers.applier(), signer, app.state.engine)
        yield LiveErp(erp, live.peer, live.consumer)


def quote_accepted(
    customer_id: uuid.UUID,
    lines: Sequence[tuple[str, int, str] | tuple[str, int, str, str, str]],
    *,
    quote_id: uuid.UUID | None = None,
    credit_limit: str | None = None,
    customer_version: int = 1,
    customer_name: str = "Acme GmbH",
    currency: str = "EUR",
) -> QuoteAccepted:
    """`crm.quote.accepted.v1` as CRM publishes it: lines as (sku, quantity, unit_price)
    or (sku, quantity, unit_price, discount_pct, tax_rate) (default no discount, 19 %
    tax), totals computed as design §4 says, and the customer's snapshot."""
    quote_lines = []
    for sku, quantity, unit_price, *rates in lines:
        price = Decimal(unit_price)
        discount, tax_rate = (Decimal(rates[0]), Decimal(rates[1])) if rates else (0, 19)
        net, tax = line_amounts(quantity, price, Decimal(discount), Decimal(tax_rate))
        quote_lines.append(
            QuoteLine(
                sku=sku,
                quantity=quantity,
                unit_price=price,
                discount_pct=Decimal(discount),
                tax_rate=Decimal(tax_rate),
                line_net=net,
                line_tax=tax,
            )
        )
    totals = document_totals(
        (line.quantity, line.unit_price, line.line_net, line.line_tax) for line in quote_lines
    )
    quote_id = quote_id or uuid.uuid4()
    return QuoteAccepted(
        version=3,
        quote_id=quote_id,
        number=f"Q-2026-{quote_id.int % 1_000_000:06d}",
        customer_id=customer_id,
        opportunity_id=None,
        owner_id=None,
        currency=currency,
        subtotal=totals.subtotal,
        discount_total=totals.discount_total,
        tax_total=totals.tax_total,
        total=totals.total,
        valid_until=date(2099, 12, 31),
        lines=quote_lines,
        customer=CustomerSnapshot(
            id=customer_id,
            version=customer_version,
            kind="company",
            name=customer_name,
            email="buy@acme.example",
            billing_address=Address(street="Hauptstr. 1", city="Berlin", country="DE"),
            credit_limit=Decimal(credit_limit) if credit_limit is not None else None,
            payment_terms_days=30,
        ),
    )


async def ship(
    erp: Erp,
    order: Mapping[str, Any],
    lines: Sequence[tuple[str, int] | Mapping[str, Any]],
    *,
    role: str = "warehouse",
    headers: Mapping[str, str] | None = None,
    **fields: Any,
) -> httpx.Response:
    """`POST /orders/{id}/shipments` with lines as (sku, quantity) or full line bodies and
    any other fields (carrier, tracking_number, shipped_at); the response as it came."""
    body = {
        "lines": [
            dict(line) if isinstance(line, Mapping) else {"sku": line[0], "quantity": line[1]}
            for line in lines
        ],
        **fields,
    }
    return await erp.client.post(
        f"/orders/{order['id']}/shipments",
        json=body,
        headers={**erp.headers(role), **(headers or {})},
    )
