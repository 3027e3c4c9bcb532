"""The CRM under test: a client with tokens per role, and ERP's events applied through the
service's own consumer path (the harness CRM tests drive it with), or put on the broker
for its real consumer (`live_crm`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.adapters.orm import messaging
from crm.config import Settings
from crm.main import create_app
from shared_schemas.events.base import EventData, new_event
from shared_schemas.events.documents import InvoiceLine, OrderLine, ShipmentLine
from shared_schemas.events.erp.employees import EmployeeHired, EmployeeTerminated
from shared_schemas.events.erp.invoices import (
    InvoiceIssued,
    InvoiceOverdue,
    InvoicePaid,
    InvoiceVoided,
    PaymentReceived,
)
from shared_schemas.events.erp.orders import (
    OrderCancelled,
    OrderConfirmed,
    OrderCreated,
    OrderDelivered,
    OrderShipped,
)
from shared_schemas.events.erp.products import ProductCreated
from shared_schemas.identity import TokenSigner
from shared_schemas.messaging import Consumer, EventApplier, KafkaSettings, Outcome
from shared_schemas.money import Totals, document_totals, line_amounts
from shared_schemas.roles import Role
from tests.support.harness import ServiceHarness, live_consumer
from tests.support.harness import migrate as migrate_service
from tests.support.identity import jwks_of, new_signer
from tests.support.kafka_tools import PeerOnTheBroker, until

CRM_ROOT = Path(__file__).resolve().parents[2] / "crm-service"


class Crm(ServiceHarness):
    """The CRM under test, driven the way the gateway and ERP drive it."""

    peer = "erp-service"

    def __init__(
        self,
        client: httpx.AsyncClient,
        applier: EventApplier,
        signer: TokenSigner,
        engine: AsyncEngine,
    ) -> None:
        super().__init__(client, applier, signer, engine, messaging.outbox)
        self.versions: dict[uuid.UUID, int] = {}

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

    async def publish_at(self, data: EventData, time: datetime) -> Outcome:
        """`publish`, the event stamped with `time` (when ERP says it happened)."""
        event = new_event(data, source="erp-service", actor="erp-service", time=time)
        parsed = self.applier.parse(event.model_dump_json().encode())
        assert parsed is not None, f"the CRM does not consume {data.event_type}"
        return await self.applier.apply(*parsed)


async def migrate(database_url: str) -> None:
    await migrate_service("crm-service", database_url)


def order_line(
    sku: str = "SKU-1",
    quantity: int = 2,
    unit_price: str = "50.00",
    tax_rate: str = "19",
    discount_pct: str = "0",
) -> OrderLine:
    """An order line priced as design §4 says."""
    net, tax = line_amounts(quantity, Decimal(unit_price), Decimal(discount_pct), Decimal(tax_rate))
    return OrderLine(
        sku=sku,
        product_id=uuid.uuid5(uuid.NAMESPACE_URL, f"product:{sku}"),
        name=f"Product {sku}",
        quantity=quantity,
        unit_price=Decimal(unit_price),
        discount_pct=Decimal(discount_pct),
        tax_rate=Decimal(tax_rate),
        line_net=net,
        line_tax=tax,
    )


@dataclass
class ErpOrder:
    """An ERP sales order through its life, as the events ERP publishes about it; each
    event bumps the order's version, so events can be built first and delivered later in
    any order."""

    customer_id: uuid.UUID
    quote_id: uuid.UUID | None = None
    lines: list[OrderLine] = field(default_factory=lambda: [order_line()])
    order_id: uuid.UUID = field(default_factory=uuid.uuid4)
    number: str = field(default_factory=lambda: f"SO-2026-{uuid.uuid4().int % 10**6:06d}")
    version: int = 0
    status: str = "pending"

    @property
    def totals(self) -> Totals:
        return document_totals(
            (li.quantity, li.unit_price, li.line_net, li.line_tax) for li in self.lines
        )

    def _next(self, status: str) -> dict[str, Any]:
        self.version += 1
        previous, self.status = self.status, status
        return {
            "version": self.version,
            "order_id": self.order_id,
            "number": self.number,
            "quote_id": self.quote_id,
            "customer_id": self.customer_id,
            "previous_status": previous,
        }

    def created(self) -> OrderCreated:
        common = self._next("pending")
        del common["previous_status"]
        totals = self.totals
        return OrderCreated(
            **common,
            currency="EUR",
            subtotal=totals.subtotal,
            discount_total=totals.discount_total,
            tax_total=totals.tax_total,
            total=totals.total,
            lines=self.lines,
        )

    def confirmed(self) -> OrderConfirmed:
        return OrderConfirmed(**self._next("confirmed"))

    def shipped(
        self,
        carrier: str | None = "DHL",
        tracking_number: str | None = "JJD000123",
        *,
        partial: bool = False,
    ) -> OrderShipped:
        """The rest of the order shipped, or one unit of each line when `partial`."""
        status = "partially_shipped" if partial else "shipped"
        common = self._next(status)
        del common["previous_status"]
        return OrderShipped(
            **common,
            status=status,
            shipment_id=uuid.uuid4(),
            lines=[
                ShipmentLine(
                    sku=li.sku, product_id=li.product_id, quantity=1 if partial else li.quantity
                )
                for li in self.lines
            ],
            carrier=carrier,
            tracking_number=tracking_number,
            shipped_at=datetime.now(UTC),
        )

    def delivered(self) -> OrderDelivered:
        common = self._next("delivered")
        del common["previous_status"]
        return OrderDelivered(**common, delivered_at=datetime.now(UTC))

    def cancelled(self, reason: str | None = None) -> OrderCancelled:
        return OrderCancelled(**self._next("cancelled"), reason=reason)


@dataclass
class ErpInvoice:
    """An ERP invoice for the whole of an `ErpOrder`, and the payments applied to it; each
    event bumps the invoice's version but two, as in ERP: the overdue notice (about the
    invoice as it stands) and the paid event (recorded with the payment that settled the
    invoice, in its transaction, under its version)."""

    order: ErpOrder
    invoice_id: uuid.UUID = field(default_factory=uuid.uuid4)
    number: str = field(default_factory=lambda: f"INV-2026-{uuid.uuid4().int % 10**6:06d}")
    version: int = 0
    amount_paid: Decimal = Decimal("0.00")
    due_date: date = date(2026, 12, 20)
    last_payment_id: uuid.UUID | None = None

    @property
    def total(self) -> Decimal:
        return self.order.totals.total

    def _next(self, status: str) -> dict[str, Any]:
        self.version += 1
        return {
            "version": self.version,
            "invoice_id": self.invoice_id,
            "number": self.number,
            "order_id": self.order.order_id,
            "quote_id": self.order.quote_id,
            "customer_id": self.order.customer_id,
            "status": status,
            "currency": "EUR",
            "total": self.total,
            "amount_paid": self.amount_paid,
            "amount_due": Decimal("0.00") if status == "void" else self.total - self.amount_paid,
        }

    def issued(self) -> InvoiceIssued:
        totals = self.order.totals
        return InvoiceIssued(
            **self._next("issued"),
            subtotal=totals.subtotal,
            discount_total=totals.discount_total,
            tax_total=totals.tax_total,
            shipment_id=uuid.uuid4(),
            issued_on=self.due_date - timedelta(days=30),
            due_date=self.due_date,
            lines=[InvoiceLine(**li.model_dump()) for li in self.order.lines],
        )

    def payment(self, amount: str) -> PaymentReceived:
        self.amount_paid += Decimal(amount)
        status = "paid" if self.amount_paid == self.total else "partially_paid"
        self.last_payment_id = uuid.uuid4()
        return PaymentReceived(
            **self._next(status),
            payment_id=self.last_payment_id,
            amount=Decimal(amount),
            received_on=self.due_date,
            method="bank_transfer",
        )

    def paid(self) -> InvoicePaid:
        """What ERP records beside the payment that settled the invoice: the same header,
        so the same version and balance, and that payment's id."""
        # ERP publishes it only with the payment that settles the invoice.
        assert self.last_payment_id is not None
        assert self.amount_paid == self.total
        self.version -= 1
        return InvoicePaid(
            **self._next("paid"), payment_id=self.last_payment_id, paid_on=self.due_date
        )

    def overdue(self, days: int = 5) -> InvoiceOverdue:
        """ERP's sweep: a notice about the invoice as it stands, at its current version."""
        status = "partially_paid" if self.amount_paid else "issued"
        self.version -= 1
        return InvoiceOverdue(**self._next(status), due_date=self.due_date, days_overdue=days)

    def voided(self, reason: str | None = None) -> InvoiceVoided:
        return InvoiceVoided(**self._next("void"), reason=reason)


class LiveCrm:
    """The CRM with its real consumer running against a broker, ERP's events put on the
    topics, effects read back through the HTTP API; started by `live_crm`."""

    def __init__(self, crm: Crm, erp: PeerOnTheBroker, consumer: Consumer) -> None:
        self.crm = crm
        self.erp = erp
        self.consumer = consumer
        self.client = crm.client

    def as_(self, role: str, employee_id: uuid.UUID | None = None) -> dict[str, str]:
        return self.crm.headers(role, employee_id)

    async def customer(self, customer_id: str) -> dict[str, Any]:
        return await self._get(f"/customers/{customer_id}")

    async def quote(self, quote_id: str) -> dict[str, Any]:
        return await self._get(f"/quotes/{quote_id}")

    async def _get(self, path: str) -> dict[str, Any]:
        response = await self.client.get(path, headers=self.as_("admin"))
        assert response.status_code == 200, response.text
        return {**response.json(), "etag": response.headers["etag"]}

    async def timeline(self, customer_id: str, *kinds: str) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/customers/{customer_id}/timeline",
            params={"kind": list(kinds), "limit": 200},
            headers=self.as_("admin"),
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def hire(
        self, role: str = "sales", *, manager_id: uuid.UUID | None = None
    ) -> EmployeeHired:
        employee_id = uuid.uuid4()
        hired = EmployeeHired(
            version=1,
            employee_id=employee_id,
            name=f"{role.title()} {employee_id.hex[:6]}",
            email=f"{employee_id.hex[:8]}@company.example",
            department_id=None,
            manager_id=manager_id,
            title=None,
            role=Role(role),
            hired_on=date(2026, 1, 5),
        )
        await self.erp.publish(hired)
        return hired

    async def customer_of(self, owner_id: uuid.UUID) -> dict[str, Any]:
        """A customer owned by `owner_id`, created as soon as CRM knows them as a sales rep
        (until then the owner is refused with 422, which creates nothing)."""
        name = uuid.uuid4().hex
        body = {
            "kind": "company",
            "name": f"Customer {name}",
            "email": f"{name}@customer.example",
            "owner_id": str(owner_id),
        }

        async def create() -> httpx.Response:
            return await self.client.post(
                "/customers", json=body, headers=self.as_("sales_manager")
            )

        response = await until(create, lambda r: r.status_code != 422, "the owner is known")
        assert response.status_code == 201, response.text
        customer: dict[str, Any] = response.json()
        return customer

    async def product(self, unit_price: str = "120.00", tax_rate: str = "7") -> ProductCreated:
        sku = f"SKU-{uuid.uuid4().hex[:8].upper()}"
        created = ProductCreated(
            version=1,
            product_id=uuid.uuid4(),
            sku=sku,
            name=f"Product {sku}",
            unit_price=Decimal(unit_price),
            currency="EUR",
            tax_rate=Decimal(tax_rate),
            cost=Decimal("40.00"),
            reorder_point=0,
            active=True,
        )
        await self.erp.publish(created)
        return created

    async def draft_quote(self, rep: uuid.UUID, customer_id: str, sku: str) -> dict[str, Any]:
        """A draft quote of 2 x `sku`, created as soon as CRM knows the product."""
        body = {"customer_id": customer_id, "lines": [{"sku": sku, "quantity": 2}]}

        async def create() -> httpx.Response:
            return await self.client.post("/quotes", json=body, headers=self.as_("sales", rep))

        response = await until(create, lambda r: r.status_code != 422, f"{sku} is quotable")
        assert response.status_code == 201, response.text
        quote: dict[str, Any] = response.json()
        return quote

    async def accepted_quote(self) -> tuple[uuid.UUID, dict[str, Any], dict[str, Any]]:
        """A sales rep, their customer and an accepted quote of 2 x 120.00 at 7 % (256.80)."""
        rep = (await self.hire()).employee_id
        customer = await self.customer_of(rep)
        quote = await self.draft_quote(rep, customer["id"], (await self.product()).sku)
        for action in ("send", "accept"):
            response = await self.client.post(
                f"/quotes/{quote['id']}/{action}", headers=self.as_("sales", rep)
            )
            assert response.status_code == 200, response.text
        return rep, customer, response.json()


@asynccontextmanager
async def live_crm(database_url: str, kafka: KafkaSettings) -> AsyncIterator[LiveCrm]:
    """The CRM's app on a fresh database and its real consumer against the broker (see
    `live_consumer`), ERP's events put on the topics."""
    signer = new_signer("crm-live-test-key")
    settings = Settings(database_url=database_url, jwks=json.dumps(jwks_of(signer)))
    await migrate(database_url)
    app = create_app(settings)
    async with live_consumer(app, kafka, peer="erp-service") as live:
        crm = Crm(live.client, live.workers.applier(), signer, app.state.engine)
        yield LiveCrm(crm, live.peer, live.consumer)
