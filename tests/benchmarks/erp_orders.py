"""ERP order creation from a backlog of accepted-quote events: each event a credit check
(the customer's exposure read from their earlier orders), reservations, an order, its
events, the inbox row. The erp-consumer process drains a topic holding the whole backlog;
the rate runs from the first order created to the last (joining the consumer group is
not counted).

The baseline, in the same run, is the same consumer applying one event per transaction
(CONSUMER_BATCH_SIZE=1). Results go to docs/benchmarks.md. Repeat with `make bench`
(QUOTES= to vary the backlog).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from erp.adapters.sales import Order
from erp.config import Settings
from erp.domain.orders import ON_HOLD
from erp.main import create_app
from shared_schemas.broker import EmbeddedBroker, free_port
from shared_schemas.database import create_engine
from shared_schemas.events.base import new_event
from shared_schemas.events.crm.quotes import QuoteAccepted
from shared_schemas.events.documents import QuoteLine
from shared_schemas.events.values import CustomerSnapshot
from shared_schemas.money import document_totals, line_amounts
from tests.benchmarks.report import measured_on, write_section
from tests.support.databases import fresh_postgres_database, postgres_admin_url
from tests.support.erp import migrate
from tests.support.identity import jwks_of, new_signer

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
QUOTES = int(os.environ.get("QUOTES", "10000"))
SKUS = [f"BENCH-{n}" for n in range(10)]
# Each customer accepts about this many quotes over the backlog, so most credit checks
# count orders made earlier (an order's total is at most 142.73 here).
QUOTES_PER_CUSTOMER = 4
# One customer in TIGHT_EVERY has a limit most of their orders exceed (those are held);
# every other customer a limit their orders stay well within.
TIGHT_EVERY = 20
TIGHT_LIMIT, AMPLE_LIMIT = Decimal("100.00"), Decimal("50000.00")


@dataclass
class Result:
    database: str
    batch: int
    rate: float
    drained_in: float
    held: int


async def prepare(database_url: str, signer: Any) -> dict[str, uuid.UUID]:
    """Warehouse, products and plenty of stock, made through the ERP's own API."""
    await migrate(database_url)
    app = create_app(Settings(database_url=database_url, jwks=json.dumps(jwks_of(signer))))
    token = signer.issue(subject="bench", roles=["admin"], employee_id=None)
    headers = {"Authorization": f"Bearer {token}"}
    products: dict[str, uuid.UUID] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://erp") as client:

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = await client.post(path, json=body, headers=headers)
            response.raise_for_status()
            return dict(response.json())

        warehouse = await post("/warehouses", {"code": "BENCH", "name": "Bench"})
        for sku in SKUS:
            product = await post(
                "/products",
                {"sku": sku, "name": sku, "unit_price": "19.99", "tax_rate": "19", "cost": "9.00"},
            )
            products[sku] = uuid.UUID(product["id"])
            await post(
                "/stock/movements",
                {"kind": "receipt", "sku": sku, "warehouse_id": warehouse["id"], "quantity": 10**7},
            )
    await app.state.engine.dispose()
    return products


@dataclass(frozen=True)
class BenchCustomer:
    id: uuid.UUID
    name: str
    credit_limit: Decimal


def bench_customers(count: int) -> list[BenchCustomer]:
    """Every customer has a credit limit, so every order's credit check reads its exposure;
    one in TIGHT_EVERY a tight one."""
    return [
        BenchCustomer(
            uuid.uuid4(),
            f"Bench customer {n}",
            TIGHT_LIMIT if n % TIGHT_EVERY == 0 else AMPLE_LIMIT,
        )
        for n in range(count)
    ]


def quote_events(products: dict[str, uuid.UUID]) -> list[tuple[bytes, bytes]]:
    """(key, CloudEvent JSON) of accepted quotes: 1-3 lines each, from customers known only
    by the quotes' snapshots, each with a credit limit and accepting about
    QUOTES_PER_CUSTOMER quotes spread over the backlog (a seeded draw, the same every
    run)."""
    draw = random.Random(20261201)
    customers = bench_customers(max(1, QUOTES // QUOTES_PER_CUSTOMER))
    events = []
    for n in range(QUOTES):
        quote_id, customer = uuid.uuid4(), draw.choice(customers)
        lines = []
        for k in range(1 + n % 3):
            sku = SKUS[(n + k) % len(SKUS)]
            quantity, price, discount, rate = 1 + k, Decimal("19.99"), Decimal("0"), Decimal("19")
            net, tax = line_amounts(quantity, price, discount, rate)
            lines.append(
                QuoteLine(
                    sku=sku,
                    product_id=products[sku],
                    name=sku,
                    quantity=quantity,
                    unit_price=price,
                    discount_pct=discount,
                    tax_rate=rate,
                    line_net=net,
                    line_tax=tax,
                )
            )
        totals = document_totals((q.quantity, q.unit_price, q.line_net, q.line_tax) for q in lines)
        data = QuoteAccepted(
            version=3,
            quote_id=quote_id,
            number=f"Q-2026-{n:06d}",
            customer_id=customer.id,
            opportunity_id=None,
            owner_id=None,
            currency="EUR",
            subtotal=totals.subtotal,
            discount_total=totals.discount_total,
            tax_total=totals.tax_total,
            total=totals.total,
            valid_until="2026-12-31",
            lines=lines,
            customer=CustomerSnapshot(
                id=customer.id,
                version=1,
                kind="company",
                name=customer.name,
                credit_limit=customer.credit_limit,
                payment_terms_days=30,
            ),
        )
        event = new_event(data, source="crm-service", actor="bench")
        events.append((str(quote_id).encode(), event.model_dump_json().encode()))
    return events


async def fill_topic(broker: EmbeddedBroker, events: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=5)
    await producer.start()
    try:
        sends = [await producer.send("crm.quote", value=value, key=key) for key, value in events]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def drain(broker: EmbeddedBroker, database_url: str, batch: int, label: str) -> Result:
    """Run erp-consumer in a fresh group until every quote became an order."""
    env = {
        **os.environ,
        "ERP_DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "ERP_CONSUMER_GROUP": f"bench-{label.lower()}-{batch}-{uuid.uuid4().hex[:6]}",
        "ERP_CONSUMER_BATCH_SIZE": str(batch),
        "ERP_CONSUMER_METRICS_PORT": "0",
        "ERP_LOG_LEVEL": "warning",
    }
    log = (ROOT / ".data" / "bench-logs" / f"erp-consumer-{label}-{batch}.log").open("ab")
    process = subprocess.Popen(
        [str(BIN / "erp-consumer")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    engine = create_engine(database_url)
    started = time.perf_counter()
    try:
        while True:
            async with engine.connect() as connection:
                count, first, last, held = (
                    await connection.execute(
                        select(
                            func.count(),
                            func.min(Order.created_at),
                            func.max(Order.created_at),
                            func.count().filter(Order.status == ON_HOLD),
                        )
                    )
                ).one()
            if count >= QUOTES:
                break
            if process.poll() is not None:
                raise RuntimeError(f"erp-consumer exited with {process.returncode}")
            if time.perf_counter() - started > 900:
                raise RuntimeError(f"only {count} of {QUOTES} orders after 15 minutes")
            await asyncio.sleep(0.5)
    finally:
        process.terminate()
        process.wait(30)
        log.close()
        await engine.dispose()
    spread = (last - first).total_seconds()
    return Result(label, batch, QUOTES / spread, time.perf_counter() - started, int(held))


def render(results: list[Result]) -> str:
    rows = ["| database | events per transaction | orders/s | vs one per transaction | held |"]
    rows.append("|---|---|---|---|---|")
    for result in results:
        base = next(r for r in results if r.database == result.database and r.batch == 1)
        rows.append(
            f"| {result.database} | {result.batch} | {result.rate:.0f} | "
            f"{result.rate / base.rate:.2f} | {result.held} |"
        )
    customers = max(1, QUOTES // QUOTES_PER_CUSTOMER)
    return "\n".join(
        [
            f"{measured_on()}.",
            "",
            f"A backlog of {QUOTES:,} `crm.quote.accepted.v1` events (1-3 lines each) from",
            f"{customers:,} customers known only by the quotes' snapshots, each accepting",
            "several quotes spread over the backlog, drained by one erp-consumer process:",
            "each event a credit check (every customer has a credit limit, so each check",
            "reads the customer's exposure from their earlier orders; one customer in",
            f"{TIGHT_EVERY} has a limit of {TIGHT_LIMIT}, which most of their orders exceed:",
            "those are held, column `held`), reservations in the default warehouse, the",
            "order with its lines, its `erp.order.created` and `confirmed` (or `on_hold`)",
            "events, and the inbox row. The baseline is the same consumer applying one event",
            "per transaction",
            "(`ERP_CONSUMER_BATCH_SIZE=1`); with 100, each run of accepted quotes in a",
            "transaction becomes its orders in one set-based step. Rate from the first order",
            "created to the last. Target: at least 300 orders/s on PostgreSQL.",
            "",
            *rows,
            "",
            "Repeat: `make bench-erp` (`QUOTES=2000 make bench-erp` for a quicker run).",
        ]
    )


async def main() -> None:
    (ROOT / ".data" / "bench-logs").mkdir(parents=True, exist_ok=True)
    signer = new_signer("bench-key")
    broker = EmbeddedBroker(free_port())
    await broker.start()
    results = []
    try:
        targets: list[tuple[str, Any]] = []
        admin_url = postgres_admin_url()
        scratch = ROOT / ".data" / "bench-erp"
        scratch.mkdir(parents=True, exist_ok=True)
        for batch in (1, 100):
            sqlite_file = scratch / f"erp-{batch}-{uuid.uuid4().hex[:6]}.db"
            targets.append(("SQLite", (batch, f"sqlite+aiosqlite:///{sqlite_file}")))
        first = True
        for label, (batch, url) in targets:
            products = await prepare(url, signer)
            if first:
                await fill_topic(broker, quote_events(products))
                first = False
            results.append(await drain(broker, url, batch, label))
            print(results[-1], flush=True)
        if admin_url is not None:
            for batch in (1, 100):
                async with fresh_postgres_database(admin_url) as url:
                    # Same product ids are not needed: the quote lines name skus.
                    await prepare(url, signer)
                    results.append(await drain(broker, url, batch, "PostgreSQL"))
                    print(results[-1], flush=True)
    finally:
        broker.stop()
    section = render(results)
    write_section("ERP orders from accepted quotes", section)
    print(section)


if __name__ == "__main__":
    asyncio.run(main())
