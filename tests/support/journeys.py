"""The six business flows of design §6, driven only through the gateway with the tokens its
development users get at `POST /auth/token`, each checking both services.

Each flow returns how long its asynchronous outcomes took to become visible (seconds from
the response of the request that caused them to the first poll that saw them): the end-to-end
tests assert the outcomes, the benchmark repeats the flows and reports those times.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text

from deploy.local.launcher import Platform, sign_in
from deploy.local.seed_api import retry_after
from shared_schemas.database import create_engine
from shared_schemas.identity.development import DEVELOPMENT_EMPLOYEE_IDS

POLL_SECONDS = 0.02
RATE_LIMITED_RETRIES = 5
ROLES = ("admin", "sales", "sales_manager", "support", "warehouse", "finance", "hr")

Json = dict[str, Any]
Timings = dict[str, float]


class Unexpected(AssertionError):
    """A service answered something a user would not expect at that step."""


class Gateway:
    """The gateway as a frontend uses it: signed in as the development user of each role."""

    def __init__(self, url: str) -> None:
        self.client = httpx.AsyncClient(base_url=url, timeout=30.0)
        self._tokens: dict[str, str] = {}

    async def close(self) -> None:
        await self.client.aclose()

    async def sign_in_all(self) -> None:
        for role in ROLES:
            self._tokens[role] = await sign_in(self.client, role, f"dev-{role}")

    async def request(
        self,
        role: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        if role not in self._tokens:
            self._tokens[role] = await sign_in(self.client, role, f"dev-{role}")
        all_headers = {"Authorization": f"Bearer {self._tokens[role]}", **(headers or {})}
        response = await self.client.request(
            method, path, json=json, params=params, headers=all_headers
        )
        if response.status_code == 401:  # an access token lives 15 minutes: sign in again
            self._tokens[role] = await sign_in(self.client, role, f"dev-{role}")
            all_headers["Authorization"] = f"Bearer {self._tokens[role]}"
            response = await self.client.request(
                method, path, json=json, params=params, headers=all_headers
            )
        for _ in range(RATE_LIMITED_RETRIES):
            # Every user of these journeys calls from one address: when its polls use up
            # the gateway's per-address limit, wait as told, as a frontend would.
            if response.status_code != 429:
                break
            await asyncio.sleep(retry_after(response))
            response = await self.client.request(
                method, path, json=json, params=params, headers=all_headers
            )
        return response

    async def get(self, role: str, path: str, **params: Any) -> Json:
        response = await self.request(role, "GET", path, params=params or None)
        if response.status_code != 200:
            raise Unexpected(f"GET {path} as {role}: {response.status_code} {response.text}")
        return dict(response.json())

    async def post(
        self, role: str, path: str, body: Any = None, *, expect: int | None = None
    ) -> Json:
        """A POST with an Idempotency-Key, as a frontend sends it; its JSON answer."""
        response = await self.request(
            role, "POST", path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        if (expect is None and not response.is_success) or (
            expect is not None and response.status_code != expect
        ):
            raise Unexpected(f"POST {path} as {role}: {response.status_code} {response.text}")
        return dict(response.json()) if response.content else {}

    async def patch(self, role: str, path: str, body: Any) -> Json:
        current = await self.request(role, "GET", path)
        response = await self.request(
            role, "PATCH", path, json=body, headers={"If-Match": current.headers["etag"]}
        )
        if response.status_code != 200:
            raise Unexpected(f"PATCH {path} as {role}: {response.status_code} {response.text}")
        return dict(response.json())


async def settle(
    read: Callable[[], Awaitable[Any]],
    condition: Callable[[Any], bool],
    what: str,
    *,
    since: float,
    within: float = 60.0,
) -> tuple[Any, float]:
    """Poll `read` until `condition` holds on its result; (that result, seconds since
    `since`). Fails after `within` seconds with what was read last."""
    deadline = time.monotonic() + within
    last: Any = None
    while True:
        try:
            last = await read()
        except Unexpected as exc:  # a service still starting or catching up answers errors
            last = exc
        else:
            if condition(last):
                return last, time.monotonic() - since
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within:.0f}s; last seen: {last}")
        await asyncio.sleep(POLL_SECONDS)


async def _mark_published(database_url: str, aggregate_id: str) -> int:
    """Mark the aggregate's pending outbox rows published, unsent: events a broker took
    and then lost. How many there were."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(
                text(
                    "UPDATE outbox SET published_at = :now "
                    "WHERE key = :key AND published_at IS NULL"
                ),
                {"now": datetime.now(UTC), "key": aggregate_id},
            )
            return int(result.rowcount)
    finally:
        await engine.dispose()


def _tag() -> str:
    return uuid.uuid4().hex[:8].upper()


class Journeys:
    """The flows; each creates what it needs under fresh names, so they run in any order and
    repeatedly on the same platform."""

    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway
        self.sales = DEVELOPMENT_EMPLOYEE_IDS["sales"]
        self.sales_manager = DEVELOPMENT_EMPLOYEE_IDS["sales_manager"]
        self._warehouse: str | None = None

    async def default_warehouse(self) -> str:
        if self._warehouse is None:
            listed = await self.gw.get("warehouse", "/api/erp/warehouses", is_default="true")
            if listed["items"]:
                self._warehouse = str(listed["items"][0]["id"])
            else:
                created = await self.gw.post(
                    "warehouse",
                    "/api/erp/warehouses",
                    {"code": "MAIN", "name": "Main warehouse", "is_default": True},
                )
                self._warehouse = str(created["id"])
        return self._warehouse

    # Building blocks -------------------------------------------------------------------

    async def product(self, unit_price: str = "100.00", stock: int = 50) -> Json:
        """A product in ERP with `stock` units received in the default warehouse."""
        sku = f"E2E-{_tag()}"
        product = await self.gw.post(
            "warehouse",
            "/api/erp/products",
            {
                "sku": sku,
                "name": f"Standing desk {sku}",
                "unit_price": unit_price,
                "tax_rate": "19",
                "cost": "40.00",
                "reorder_point": 0,
            },
        )
        if stock:
            await self.gw.post(
                "warehouse",
                "/api/erp/stock/movements",
                {
                    "kind": "receipt",
                    "sku": sku,
                    "warehouse_id": await self.default_warehouse(),
                    "quantity": stock,
                },
            )
        return product

    async def customer(self, *, credit_limit: str | None = None) -> Json:
        tag = _tag()
        body: Json = {
            "kind": "company",
            "name": f"Kestrel Logistics {tag}",
            "email": f"buying-{tag.lower()}@kestrel.example",
            "owner_id": self.sales,
            "billing_address": {
                "street": "Hafenstrasse 12",
                "postal_code": "20457",
                "city": "Hamburg",
                "country": "DE",
            },
        }
        if credit_limit is not None:
            body["credit_limit"] = credit_limit
        return await self.gw.post("sales_manager", "/api/crm/customers", body)

    async def draft_quote(
        self, sku: str, quantity: int, customer: Json, *, since: float
    ) -> tuple[Json, float]:
        """A draft quote of `quantity` x `sku` by the sales rep, as soon as CRM's product
        replica knows the sku (until then CRM refuses it with 422 and creates nothing)."""

        async def create() -> httpx.Response:
            response = await self.gw.request(
                "sales",
                "POST",
                "/api/crm/quotes",
                json={"customer_id": customer["id"], "lines": [{"sku": sku, "quantity": quantity}]},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            if response.status_code not in (201, 422):
                raise Unexpected(f"POST /quotes: {response.status_code} {response.text}")
            return response

        created, seconds = await settle(
            create, lambda r: r.status_code == 201, f"CRM quotes {sku}", since=since
        )
        return dict(created.json()), seconds

    async def stock(self, sku: str) -> Json:
        page = await self.gw.get(
            "warehouse", "/api/erp/stock", sku=sku, warehouse_id=await self.default_warehouse()
        )
        items = page["items"]
        return dict(items[0]) if items else {"on_hand": 0, "reserved": 0, "available": 0}

    async def accepted_quote(self, sku: str, quantity: int, customer: Json) -> Json:
        quote, _ = await self.draft_quote(sku, quantity, customer, since=time.monotonic())
        await self.gw.post("sales", f"/api/crm/quotes/{quote['id']}/send")
        return await self.gw.post("sales", f"/api/crm/quotes/{quote['id']}/accept")

    async def orders_of(self, quote_id: str) -> list[Json]:
        """Every ERP order made from the quote (one, unless an event was applied twice)."""
        page = await self.gw.get("sales", "/api/erp/orders", quote_id=quote_id, limit=200)
        return list(page["items"])

    async def order_of(
        self, quote_id: str, status: str, *, since: float, within: float = 60.0
    ) -> tuple[Json, float]:
        """The quote's order once it has `status`; fails at once if there are two."""
        found, seconds = await settle(
            lambda: self.orders_of(quote_id),
            lambda items: len(items) > 1 or (len(items) == 1 and items[0]["status"] == status),
            f"one {status} order in ERP for quote {quote_id}",
            since=since,
            within=within,
        )
        if len(found) != 1:
            raise Unexpected(f"{len(found)} orders in ERP for quote {quote_id}: {found}")
        return dict(found[0]), seconds

    async def quote_shows(
        self, quote_id: str, status: str, *, since: float, within: float = 60.0
    ) -> float:
        _, seconds = await settle(
            lambda: self.gw.get("sales", f"/api/crm/quotes/{quote_id}"),
            lambda quote: quote["order_status"] == status,
            f"the quote shows its order {status} in CRM",
            since=since,
            within=within,
        )
        return seconds

    async def timeline_shows(
        self,
        customer_id: str,
        kind: str,
        *,
        since: float,
        about: str | None = None,
        role: str = "sales",
    ) -> float:
        """Seconds until the customer's CRM timeline has an entry of `kind` (about the
        document `about`, when given), as `role` sees it (a payment shows to finance: no
        sales role reads payments)."""
        _, seconds = await settle(
            lambda: self.gw.get(role, f"/api/crm/customers/{customer_id}/timeline", kind=kind),
            lambda page: any(about in (None, item["ref_id"]) for item in page["items"]),
            f"the customer's CRM timeline shows {kind}" + (f" of {about}" if about else ""),
            since=since,
        )
        return seconds

    async def confirmed_order(self, quantity: int = 3) -> tuple[Json, Json, Json]:
        """Flow 1's outcome, for the flows that go on from it: (product, customer, order)."""
        product = await self.product()
        customer = await self.customer()
        quote = await self.accepted_quote(product["sku"], quantity, customer)
        order, _ = await self.order_of(quote["id"], "confirmed", since=time.monotonic())
        return product, customer, order

    async def drafts(self, count: int, quantity: int = 2) -> tuple[Json, list[Json]]:
        """A product with stock for all of them and `count` draft quotes of it, sent, ready to
        be accepted: what the failure journeys accept while something is down."""
        product = await self.product(stock=count * quantity)
        customer = await self.customer()
        first, _ = await self.draft_quote(
            product["sku"], quantity, customer, since=time.monotonic()
        )
        quotes = [first] + [
            await self.gw.post(
                "sales",
                "/api/crm/quotes",
                {
                    "customer_id": customer["id"],
                    "lines": [{"sku": product["sku"], "quantity": quantity}],
                },
            )
            for _ in range(count - 1)
        ]
        for quote in quotes:
            await self.gw.post("sales", f"/api/crm/quotes/{quote['id']}/send")
        return product, quotes

    async def accept(self, quote: Json) -> Json:
        return await self.gw.post("sales", f"/api/crm/quotes/{quote['id']}/accept")

    async def one_confirmed_order_each(
        self,
        product: Json,
        quotes: list[Json],
        *,
        settled: Callable[[], Awaitable[None]],
        within: float = 90.0,
    ) -> float:
        """Every quote has a confirmed order in ERP and shows it in CRM; then, once
        `settled()` returns (every outbox published and every consumer caught up, so a
        redelivery that would make a second order or a second timeline entry has been
        applied by then), counted again: exactly one order per quote, ERP reserved exactly
        their units, and each order is on its customer's CRM timeline as confirmed exactly
        once. Nothing lost, nothing doubled, on either side. Seconds until the orders
        showed."""
        start = time.monotonic()
        for quote in quotes:
            await self.order_of(quote["id"], "confirmed", since=start, within=within)
            await self.quote_shows(quote["id"], "confirmed", since=start, within=within)
        seconds = time.monotonic() - start
        await settled()
        orders = {quote["id"]: await self.orders_of(quote["id"]) for quote in quotes}
        counts = {quote_id: len(found) for quote_id, found in orders.items()}
        if any(count != 1 for count in counts.values()):
            raise Unexpected(f"orders per quote once settled: {counts}")
        units = sum(line["quantity"] for quote in quotes for line in quote["lines"])
        level = await self.stock(product["sku"])
        if (level["reserved"], level["available"]) != (units, 0):
            raise Unexpected(f"{len(quotes)} orders of {units} units in all reserved {level}")
        for customer_id in sorted({quote["customer_id"] for quote in quotes}):
            # An order.confirmed entry refers to its order (ref_id is the order's id).
            entries = await self.all_pages(
                "sales", f"/api/crm/customers/{customer_id}/timeline", kind="order.confirmed"
            )
            shown = Counter(str(entry["ref_id"]) for entry in entries)
            wrong = {
                order["number"]: shown[order["id"]]
                for quote in quotes
                if quote["customer_id"] == customer_id
                for order in orders[quote["id"]]
                if shown[order["id"]] != 1
            }
            if wrong:
                raise Unexpected(
                    f"order.confirmed entries per order on CRM's timeline of customer "
                    f"{customer_id} once settled (one each expected): {wrong}"
                )
        return seconds

    async def all_pages(self, role: str, path: str, **params: Any) -> list[Json]:
        """Every item of a list, page after page (at most 200 items a page, design §4)."""
        items: list[Json] = []
        query: dict[str, Any] = {**params, "limit": 200}
        while True:
            page = await self.gw.get(role, path, **query)
            items += page["items"]
            if not page["next_cursor"]:
                return items
            query["cursor"] = page["next_cursor"]

    # The six flows ---------------------------------------------------------------------

    async def quote_to_order(self) -> Timings:
        """1. Quote accepted in CRM → order in ERP, stock reserved → CRM sees the order status
        on the quote and on the customer's timeline."""
        product = await self.product(unit_price="250.00", stock=20)
        customer = await self.customer()
        quote = await self.accepted_quote(product["sku"], 4, customer)
        if quote["status"] != "accepted" or quote["total"] != "1190.00":
            raise Unexpected(f"accepted quote: {quote}")
        accepted = time.monotonic()
        order, order_seen = await self.order_of(quote["id"], "confirmed", since=accepted)
        if (order["total"], order["customer_id"]) != (quote["total"], customer["id"]):
            raise Unexpected(f"the order does not match the quote: {order} vs {quote}")
        level = await self.stock(product["sku"])
        if (level["reserved"], level["available"]) != (4, 16):
            raise Unexpected(f"stock after the order: {level}")
        status_seen = await self.quote_shows(quote["id"], "confirmed", since=accepted)
        timeline_seen = await self.timeline_shows(customer["id"], "order.confirmed", since=accepted)
        return {
            "order in ERP": order_seen,
            "order status on the CRM quote": status_seen,
            "order on the CRM timeline": timeline_seen,
        }

    async def ship_invoice_pay(self) -> Timings:
        """2. Shipment in ERP → invoice issued, ledger posted → CRM timeline shows shipped and
        invoiced; payment → invoice paid → CRM shows the customer's balance; and the
        ledger holds the shipment's, the invoice's and the payment's entries and balances."""
        product, customer, order = await self.confirmed_order(quantity=3)
        shipment = await self.gw.post(
            "warehouse",
            f"/api/erp/orders/{order['id']}/shipments",
            {
                "lines": [{"sku": product["sku"], "quantity": 3}],
                "carrier": "DHL",
                "tracking_number": f"JD{_tag()}",
            },
        )
        shipped = time.monotonic()
        level = await self.stock(product["sku"])
        if (level["on_hand"], level["reserved"]) != (47, 0):
            raise Unexpected(f"stock after shipping 3 of 50: {level}")

        async def invoices() -> list[Json]:
            page = await self.gw.get("finance", "/api/erp/invoices", order_id=order["id"])
            return list(page["items"])

        found, invoice_seen = await settle(
            invoices, lambda items: len(items) == 1, "one invoice for the shipment", since=shipped
        )
        invoice = found[0]
        if (invoice["total"], invoice["status"]) != (order["total"], "issued"):
            raise Unexpected(f"invoice of the whole shipment: {invoice} for {order}")
        shipped_seen = await self.timeline_shows(customer["id"], "order.shipped", since=shipped)
        invoiced_seen = await self.timeline_shows(customer["id"], "invoice.issued", since=shipped)
        _, balance_seen = await settle(
            lambda: self.gw.get("sales", f"/api/crm/customers/{customer['id']}"),
            lambda c: c["open_balance"] == invoice["total"],
            "CRM shows the invoice in the customer's balance",
            since=shipped,
        )

        payment = await self.gw.post(
            "finance",
            "/api/erp/payments",
            {"invoice_id": invoice["id"], "amount": invoice["total"], "method": "bank_transfer"},
        )
        paid = time.monotonic()
        settled = await self.gw.get("finance", f"/api/erp/invoices/{invoice['id']}")
        if (settled["status"], settled["amount_due"]) != ("paid", "0.00"):
            raise Unexpected(f"invoice after paying it in full: {settled}")
        _, paid_seen = await settle(
            lambda: self.gw.get("sales", f"/api/crm/customers/{customer['id']}"),
            lambda c: Decimal(c["open_balance"]) == 0,
            "CRM shows the customer's balance paid",
            since=paid,
        )
        payment_seen = await self.timeline_shows(
            customer["id"], "payment.received", since=paid, role="finance"
        )
        # Read once every time above is taken: the entries are posted in the transactions
        # of the shipment, the invoice and the payment, so reading them is no part of how
        # long anything took to show.
        await self.ledger_posted(
            shipment=shipment,
            cost=3 * Decimal(product["cost"]),
            invoice=invoice,
            payment=payment,
        )
        return {
            "invoice issued in ERP": invoice_seen,
            "shipment on the CRM timeline": shipped_seen,
            "invoice on the CRM timeline": invoiced_seen,
            "open balance in CRM": balance_seen,
            "balance paid in CRM": paid_seen,
            "payment on the CRM timeline": payment_seen,
        }

    async def ledger_posted(
        self, *, shipment: Json, cost: Decimal, invoice: Json, payment: Json
    ) -> None:
        """Flow 2's ledger (design §5), each document one entry of exactly these lines: the
        shipment Dr cost of goods sold / Cr inventory by its `cost`; the invoice Dr
        receivables by its total / Cr revenue by its net / Cr tax payable by its tax; the
        payment (by bank transfer) Dr bank / Cr receivables by its amount. And the ledger
        balances: the trial balance's debits equal its credits."""
        accounts = await self.all_pages("finance", "/api/erp/ledger/accounts")
        key_of = {account["id"]: account["system_key"] for account in accounts}
        total, tax = Decimal(invoice["total"]), Decimal(invoice["tax_total"])
        amount, nothing = Decimal(payment["amount"]), Decimal(0)
        for source_type, document, expected in (
            ("shipment", shipment, [("cogs", cost, nothing), ("inventory", nothing, cost)]),
            (
                "invoice",
                invoice,
                [
                    ("receivables", total, nothing),
                    ("revenue", nothing, total - tax),
                    ("tax_payable", nothing, tax),
                ],
            ),
            ("payment", payment, [("bank", amount, nothing), ("receivables", nothing, amount)]),
        ):
            entries = await self.all_pages(
                "finance",
                "/api/erp/ledger/journal-entries",
                source_type=source_type,
                source_id=document["id"],
            )
            if len(entries) != 1:
                raise Unexpected(f"journal entries of {source_type} {document['id']}: {entries}")
            posted = Counter(
                (key_of.get(line["account_id"]), Decimal(line["debit"]), Decimal(line["credit"]))
                for line in entries[0]["lines"]
            )
            if posted != Counter(expected):
                raise Unexpected(
                    f"{source_type} {document['id']} posted {sorted(posted.elements(), key=str)}"
                    f", not {expected}"
                )
        trial = await self.gw.get("finance", "/api/erp/reports/trial-balance")
        totals = {name: Decimal(value) for name, value in trial["totals"].items()}
        if not (
            trial["balanced"]
            and totals["debit_total"] == totals["credit_total"]
            and totals["debit_balance"] == totals["credit_balance"]
        ):
            raise Unexpected(f"the trial balance does not balance: {trial['totals']}")

    async def cancel_order(self) -> Timings:
        """3. Order cancelled → reservations released → CRM sees it, on the quote and on the
        customer's timeline."""
        product, customer, order = await self.confirmed_order(quantity=5)
        before = await self.stock(product["sku"])
        if before["reserved"] != 5:
            raise Unexpected(f"stock before cancelling: {before}")
        cancelled = await self.gw.post(
            "admin", f"/api/erp/orders/{order['id']}/cancel", {"reason": "Customer changed mind"}
        )
        at = time.monotonic()
        if cancelled["status"] != "cancelled":
            raise Unexpected(f"cancel answered {cancelled}")
        after = await self.stock(product["sku"])
        if (after["reserved"], after["available"]) != (0, 50):
            raise Unexpected(f"stock after cancelling: {after}")
        return {
            "cancellation on the CRM quote": await self.quote_shows(
                order["quote_id"], "cancelled", since=at
            ),
            "cancellation on the CRM timeline": await self.timeline_shows(
                customer["id"], "order.cancelled", since=at, about=order["id"]
            ),
        }

    async def customer_replica(self) -> Timings:
        """4. Customer created or changed in CRM → ERP's replica follows (ERP takes orders for
        it, and its credit limit once changed). The other half of flow 4, a quote accepted
        before ERP heard of its customer, is `quote_before_the_customer`: it stops a process,
        so it is not one of the repeatable `flows()`."""
        product = await self.product(unit_price="100.00", stock=30)
        customer = await self.customer(credit_limit="10000.00")
        created = time.monotonic()

        async def direct_order() -> httpx.Response:
            return await self.gw.request(
                "sales",
                "POST",
                "/api/erp/orders",
                json={
                    "customer_id": customer["id"],
                    "lines": [{"sku": product["sku"], "quantity": 2}],
                },
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )

        async def ordered() -> httpx.Response:
            response = await direct_order()
            if response.status_code not in (201, 404, 422):
                raise Unexpected(f"POST /orders: {response.status_code} {response.text}")
            return response

        first, known = await settle(
            ordered, lambda r: r.status_code == 201, "ERP knows the new customer", since=created
        )
        if first.json()["status"] != "confirmed":
            raise Unexpected(f"order within the credit limit: {first.json()}")

        await self.gw.patch(
            "sales_manager", f"/api/crm/customers/{customer['id']}", {"credit_limit": "100.00"}
        )
        changed = time.monotonic()
        held, limit_seen = await settle(
            ordered,
            lambda r: r.status_code == 201 and r.json()["status"] == "on_hold",
            "ERP holds an order over the lowered credit limit",
            since=changed,
        )
        for response in (first, held):
            await self.gw.post("admin", f"/api/erp/orders/{response.json()['id']}/cancel", {})
        return {"new customer in ERP": known, "changed credit limit in ERP": limit_seen}

    async def quote_before_the_customer(self, platform: Platform) -> Timings:
        """4, second half: an order for a quote whose customer event has not arrived yet
        still works, the quote event carrying the customer's snapshot. The customer's
        events are lost on the way (CRM's relay is frozen, idle, while the customer is
        created, and its outbox rows are marked published as if a broker had taken them
        and then lost its log), so ERP meets the quote first, whatever the broker does:
        it refuses a direct order for the unknown customer until then, and knows the
        customer from the quote's snapshot after. The operator then republishes CRM's
        events (docs/operations.md), which ERP takes without a change."""
        product = await self.product(unit_price="100.00", stock=10)
        # Idle first: frozen mid-transaction it could hold locks the API then waits on.
        await platform.wait_settled()
        lost_since = datetime.now(UTC)
        platform.pause_process("crm-relay")
        try:
            customer = await self.customer()
            lost = await _mark_published(platform.database_urls["crm"], customer["id"])
            if lost == 0:
                raise Unexpected("CRM recorded no event for the new customer")
        finally:
            platform.resume_process("crm-relay")

        async def direct_order() -> httpx.Response:
            response = await self.gw.request(
                "sales",
                "POST",
                "/api/erp/orders",
                json={
                    "customer_id": customer["id"],
                    "lines": [{"sku": product["sku"], "quantity": 1}],
                },
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            if response.status_code not in (201, 422):
                raise Unexpected(f"POST /orders: {response.status_code} {response.text}")
            return response

        if (await direct_order()).status_code != 422:
            raise Unexpected("ERP ordered for a customer whose events it never received")
        accepted = time.monotonic()
        quote = await self.accepted_quote(product["sku"], 2, customer)
        order, seen = await self.order_of(quote["id"], "confirmed", since=accepted)
        if (order["customer_id"], order["total"]) != (customer["id"], quote["total"]):
            raise Unexpected(f"the order does not match the quote: {order} vs {quote}")
        direct = await direct_order()
        if direct.status_code != 201:
            raise Unexpected(f"ERP did not keep the quote's customer snapshot: {direct.text}")

        republished = await self.gw.post(
            "admin", "/api/crm/admin/outbox/republish", {"since": lost_since.isoformat()}
        )
        if republished["republished"] < lost:
            raise Unexpected(f"the lost events were not republished: {republished}")
        for placed in (order, direct.json()):
            await self.gw.post("admin", f"/api/erp/orders/{placed['id']}/cancel", {})
        return {"order before ERP heard of the customer": seen}

    async def hire_rep(self, name: str, manager_id: str | None) -> Json:
        """A sales rep hired in ERP by hr (reporting to `manager_id`, or to nobody)."""
        first, _, last = name.lower().partition(" ")
        return await self.gw.post(
            "hr",
            "/api/erp/employees",
            {
                "name": name,
                "email": f"{first}.{last.replace(' ', '.')}@company.example",
                "role": "sales",
                "title": "Account Executive",
                "manager_id": manager_id,
                "salary": "52000.00",
            },
        )

    async def assign_lead(self, owner_id: str, *, since: float) -> tuple[Json, float]:
        """A new lead owned by `owner_id`, entered by the sales manager as soon as CRM knows
        the employee (until then CRM refuses the owner with 422 and creates nothing)."""
        tag = _tag()
        body = {
            "name": f"Noor Haddad {tag}",
            "company_name": f"Haddad Trading {tag}",
            "email": f"noor.{tag.lower()}@haddad.example",
            "owner_id": owner_id,
        }

        async def assign() -> httpx.Response:
            response = await self.gw.request(
                "sales_manager",
                "POST",
                "/api/crm/leads",
                json=body,
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            if response.status_code not in (201, 422):
                raise Unexpected(f"POST /leads: {response.status_code} {response.text}")
            return response

        assigned, seconds = await settle(
            assign, lambda r: r.status_code == 201, f"CRM can assign {owner_id}", since=since
        )
        return dict(assigned.json()), seconds

    async def employee_lifecycle(self) -> Timings:
        """5. Employee hired in ERP → CRM can assign leads to that sales rep; employee
        terminated → CRM hands the rep's open lead, opportunity and inquiry to the rep's
        manager and records each move; a leaver without a manager leaves their lead
        unassigned (design §5: to the manager if eligible, else to nobody)."""
        tag = _tag()
        rep = await self.hire_rep(f"Robin Rep {tag}", self.sales_manager)
        loner = await self.hire_rep(f"Lou Loner {tag}", None)
        hired = time.monotonic()
        lead, known = await self.assign_lead(rep["id"], since=hired)
        lone_lead, _ = await self.assign_lead(loner["id"], since=hired)
        customer = await self.customer()
        opportunity = await self.gw.post(
            "sales_manager",
            "/api/crm/opportunities",
            {
                "name": f"Haddad fit-out {tag}",
                "customer_id": customer["id"],
                "amount": "18000.00",
                "owner_id": rep["id"],
            },
        )
        inquiry = await self.gw.post(
            "support",
            "/api/crm/inquiries",
            {
                "channel": "email",
                "subject": f"Quote for a fit-out {tag}",
                "customer_id": customer["id"],
                "assignee_id": rep["id"],
            },
        )
        for employee in (rep, loner):
            await self.gw.post("hr", f"/api/erp/employees/{employee['id']}/terminate", {})
        terminated = time.monotonic()
        held = (
            (f"/api/crm/leads/{lead['id']}", "owner_id", self.sales_manager),
            (f"/api/crm/opportunities/{opportunity['id']}", "owner_id", self.sales_manager),
            (f"/api/crm/inquiries/{inquiry['id']}", "assignee_id", self.sales_manager),
            (f"/api/crm/leads/{lone_lead['id']}", "owner_id", None),
        )

        async def holders() -> list[Any]:
            return [(await self.gw.get("sales_manager", path))[key] for path, key, _ in held]

        _, moved = await settle(
            holders,
            lambda now: now == [heir for _, _, heir in held],
            "CRM hands the leaver's lead, opportunity and inquiry to the manager and leaves "
            "the managerless leaver's lead unassigned",
            since=terminated,
        )
        # Each move is recorded as a note on the record (an inquiry's on its customer).
        for link, record, kind, target in (
            ("lead_id", lead, "Lead", "to their manager"),
            ("opportunity_id", opportunity, "Opportunity", "to their manager"),
            ("customer_id", customer, "Inquiry", "to their manager"),
            ("lead_id", lone_lead, "Lead", "to nobody"),
        ):
            notes = await self.gw.get(
                "sales_manager", "/api/crm/activities", **{link: record["id"]}
            )
            subjects = [note["subject"] for note in notes["items"]]
            if not any(s.startswith(kind) and f"reassigned {target}" in s for s in subjects):
                raise Unexpected(f"no note of the {kind.lower()} reassigned {target}: {subjects}")
        return {"new rep assignable in CRM": known, "leaver's records reassigned in CRM": moved}

    async def product_pricing(self) -> Timings:
        """6. Product created or repriced in ERP → CRM quotes default to the new price."""
        product = await self.product(unit_price="80.00", stock=0)
        created = time.monotonic()
        customer = await self.customer()
        quote, quotable = await self.draft_quote(product["sku"], 1, customer, since=created)
        if (price := quote["lines"][0]["unit_price"]) != "80.00":
            raise Unexpected(f"a new quote of the new product priced {price}, not 80.00")

        async def quoted_price() -> str:
            quote = await self.gw.post(
                "sales",
                "/api/crm/quotes",
                {"customer_id": customer["id"], "lines": [{"sku": product["sku"], "quantity": 1}]},
            )
            return str(quote["lines"][0]["unit_price"])

        await self.gw.patch(
            "warehouse", f"/api/erp/products/{product['id']}", {"unit_price": "92.50"}
        )
        repriced = time.monotonic()
        _, seen = await settle(
            quoted_price, lambda p: p == "92.50", "CRM quotes the new price", since=repriced
        )
        return {"new product quotable in CRM": quotable, "new price on CRM quotes": seen}

    def flows(self) -> dict[str, Callable[[], Awaitable[Timings]]]:
        return {
            "1 quote accepted → order": self.quote_to_order,
            "2 shipment → invoice → payment": self.ship_invoice_pay,
            "3 order cancelled": self.cancel_order,
            "4 customer replica": self.customer_replica,
            "5 employee hired and terminated": self.employee_lifecycle,
            "6 product created and repriced": self.product_pricing,
        }
