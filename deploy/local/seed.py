"""`make seed`: the demo company of deploy/local/demo_data.py, loaded through the gateway's
public API, each record entered by the development user whose role would enter it.

Every POST carries an Idempotency-Key derived from the record's stable key, so a run
repeated within the services' key retention (a day) replays instead of duplicating, and
finishes what an interrupted run left. A completed seed ends with one journal entry whose
reference marks it; a later run finds it and changes nothing. Records with a natural key
(departments, employees, warehouses, products, customers, accounts) are also found by their
409 `existing_id` after the keys expired.

What one service learns from the other through events (CRM: employees and products; ERP:
customers and accepted quotes; both: orders and invoices) is awaited by polling with a
deadline. One linear script, hence longer than our modules usually are.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from deploy.local import demo_data as demo
from deploy.local.census import Census, census
from deploy.local.launcher import PlatformFailed, ensure_development_employees, sign_in
from deploy.local.seed_api import (
    CONCURRENCY,
    Api,
    GatewayUnreachable,
    Json,
    SeedFailed,
    check_gateway,
    describe,
    gather,
    poll,
)
from shared_schemas.identity.development import DEVELOPMENT_EMPLOYEE_IDS

DEFAULT_GATEWAY_URL = "http://127.0.0.1:8000"
ROLES = ("admin", "sales", "sales_manager", "support", "warehouse", "finance", "hr")
MARKER = demo.JOURNAL_ENTRIES[-1][2]
OPEN_STAGES = ("prospecting", "qualification", "proposal", "negotiation")
CENT = Decimal("0.01")


@dataclass
class Company:
    """Ids of what the seed made, by the demo data's keys."""

    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    departments: dict[str, str] = field(default_factory=dict)
    employees: dict[str, str] = field(default_factory=lambda: dict(DEVELOPMENT_EMPLOYEE_IDS))
    warehouses: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    customers: dict[str, str] = field(default_factory=dict)
    leads: dict[str, str] = field(default_factory=dict)
    opportunities: dict[str, str] = field(default_factory=dict)
    orders: dict[str, Json] = field(default_factory=dict)

    def at(self, days_ago: int, hour: int) -> str:
        moment = datetime.combine(self.today - timedelta(days=days_ago), clock(hour, 30), UTC)
        return moment.isoformat()

    def day(self, days_ahead: int) -> str:
        return (self.today + timedelta(days=days_ahead)).isoformat()


def acting(owner: str) -> str:
    """Who enters a record for `owner`: the development sales rep their own, the sales
    manager everyone else's."""
    return "sales" if owner == "sales" else "sales_manager"


def owned(company: Company, owner: str, values: Json) -> Json:
    """The body, with owner_id when the manager enters it for someone (a rep's own default
    to themselves)."""
    if acting(owner) == "sales":
        return values
    return {**values, "owner_id": company.employees[owner]}


# --- People (hr) ---------------------------------------------------------------------------


async def people(api: Api, company: Company) -> None:
    async def department(key: str, name: str, parent: str | None) -> None:
        body: Json = {"name": name}
        if parent:
            body["parent_id"] = company.departments[parent]
        made = await api.post(
            "hr", "/api/erp/departments", body, key=f"department/{key}", existing=True
        )
        company.departments[key] = made["id"]
        if key == "people":
            # Dates in the demo count from the day of the first seed, so a repeated run
            # sends the same bodies under the same keys.
            company.today = datetime.fromisoformat(made["created_at"]).date()

    top = [d for d in demo.DEPARTMENTS if d[2] is None]
    await gather(*(department(*d) for d in top))
    await gather(*(department(*d) for d in demo.DEPARTMENTS if d[2] is not None))

    async def hire(person: demo.Hire) -> None:
        body: Json = {
            "name": person.name,
            "email": person.email,
            "title": person.title,
            "role": person.role,
            "department_id": company.departments[person.department],
            "hired_on": person.hired_on,
            "salary": person.salary,
        }
        if person.manager:
            body["manager_id"] = company.employees[person.manager]
        made = await api.post(
            "hr", "/api/erp/employees", body, key=f"employee/{person.key}", existing=True
        )
        company.employees[person.key] = made["id"]

    hires = {person.key for person in demo.HIRES}
    # Managers first: a manager must be an active employee.
    await gather(*(hire(p) for p in demo.HIRES if p.manager not in hires))
    await gather(*(hire(p) for p in demo.HIRES if p.manager in hires))

    async def place(role: str, department: str, salary: str, manager: str | None) -> None:
        body: Json = {"department_id": company.departments[department], "salary": salary}
        if manager:
            body["manager_id"] = company.employees[manager]
        await api.patch("hr", f"/api/erp/employees/{company.employees[role]}", body)

    await gather(*(place(*placement) for placement in demo.DEVELOPMENT_PLACEMENT))


async def leaver(api: Api, company: Company) -> None:
    await api.post(
        "hr",
        f"/api/erp/employees/{company.employees[demo.LEAVER]}/terminate",
        {"reason": demo.LEAVER_REASON},
        key=f"employee/{demo.LEAVER}/terminate",
    )


# --- Catalogue and stock (warehouse) --------------------------------------------------------


def list_price(sku: str) -> str:
    for repriced, changes in demo.REPRICES:
        if repriced == sku and "unit_price" in changes:
            return str(changes["unit_price"])
    return next(p.unit_price for p in demo.PRODUCTS if p.sku == sku)


async def catalogue(api: Api, company: Company) -> None:
    defaults = await api.get_all("warehouse", "/api/erp/warehouses", {"is_default": "true"})
    codes = {code for _, code, *_ in demo.WAREHOUSES}
    other_default = any(w["code"] not in codes for w in defaults)
    for key, code, name, where, is_default in demo.WAREHOUSES:
        if is_default and other_default:
            # Orders reserve in the default warehouse: an installation that has its own
            # default keeps it, and the demo's main stock goes there.
            company.warehouses[key] = defaults[0]["id"]
            continue
        body = {"code": code, "name": name, "address": where, "is_default": is_default}
        made = await api.post(
            "warehouse", "/api/erp/warehouses", body, key=f"warehouse/{key}", existing=True
        )
        company.warehouses[key] = made["id"]

    async def product(item: demo.Product) -> None:
        body = {
            "sku": item.sku,
            "name": item.name,
            "unit_price": item.unit_price,
            "tax_rate": item.tax_rate,
            "cost": item.cost,
            "reorder_point": item.reorder_point,
            "active": item.active,
        }
        await api.post(
            "warehouse", "/api/erp/products", body, key=f"product/{item.sku}", existing=True
        )

    await gather(*(product(item) for item in demo.PRODUCTS))

    async def receipt(sku: str, warehouse: str, quantity: int) -> None:
        body = {
            "kind": "receipt",
            "sku": sku,
            "warehouse_id": company.warehouses[warehouse],
            "quantity": quantity,
        }
        await api.post(
            "warehouse", "/api/erp/stock/movements", body, key=f"receipt/{warehouse}/{sku}"
        )

    await gather(
        *(
            receipt(item.sku, warehouse, quantity)
            for item in demo.PRODUCTS
            for warehouse, quantity in (("ber", item.stock_ber), ("ham", item.stock_ham))
            if quantity
        )
    )
    for key, sku, source, target, quantity in demo.TRANSFERS:
        body = {
            "kind": "transfer",
            "sku": sku,
            "from_warehouse_id": company.warehouses[source],
            "to_warehouse_id": company.warehouses[target],
            "quantity": quantity,
        }
        await api.post("warehouse", "/api/erp/stock/movements", body, key=f"transfer/{key}")
    for key, sku, warehouse, quantity, reason in demo.ADJUSTMENTS:
        body = {
            "kind": "adjustment",
            "sku": sku,
            "warehouse_id": company.warehouses[warehouse],
            "quantity": quantity,
            "reason": reason,
        }
        await api.post("warehouse", "/api/erp/stock/movements", body, key=f"adjustment/{key}")
    for sku, changes in demo.REPRICES:
        [found] = await api.get_all("warehouse", "/api/erp/products", {"sku": sku})
        await api.patch("warehouse", f"/api/erp/products/{found['id']}", changes)


# --- Books (finance) ------------------------------------------------------------------------


async def books(api: Api, company: Company) -> None:
    for code, name, kind in demo.ACCOUNTS:
        await api.post(
            "finance",
            "/api/erp/ledger/accounts",
            {"code": code, "name": name, "type": kind},
            key=f"account/{code}",
            existing=True,
        )
    accounts = await api.get_all("finance", "/api/erp/ledger/accounts")
    company.accounts = {account["code"]: account["id"] for account in accounts}
    first = company.today.replace(day=1)
    months = [(first + timedelta(days=32 * n)).strftime("%Y-%m") for n in range(3)]
    for code, amount in demo.BUDGETS:
        for month in months:
            path = f"/api/erp/budgets/{company.accounts[code]}/{month}"
            response = await api.send("finance", "PUT", path, body={"amount": amount})
            if response.status_code not in (200, 201):
                raise SeedFailed(describe(response))
    for entry in demo.JOURNAL_ENTRIES[:-1]:
        await journal_entry(api, company, entry)


async def journal_entry(
    api: Api, company: Company, entry: tuple[str, str, str, tuple[tuple[str, str, str], ...]]
) -> None:
    key, memo, reference, lines = entry
    body = {
        "entry_date": (
            company.today.replace(day=1) if key == "capital" else company.today
        ).isoformat(),
        "memo": memo,
        "reference": reference,
        "lines": [
            {"account_id": company.accounts[code], "debit": debit, "credit": credit}
            for code, debit, credit in lines
        ],
    }
    await api.post("finance", "/api/erp/ledger/journal-entries", body, key=f"journal/{key}")


async def seeded_already(api: Api) -> bool:
    entries = await api.get_all(
        "finance", "/api/erp/ledger/journal-entries", {"source_type": "manual"}
    )
    return any(entry["reference"] == MARKER for entry in entries)


# --- Customers (sales manager, sales) -------------------------------------------------------


async def customers(api: Api, company: Company) -> None:
    for definition in demo.CUSTOM_FIELDS:
        response = await api.send(
            "sales_manager",
            "POST",
            "/api/crm/custom-fields",
            body=definition,
            key=f"custom-field/{definition['key']}",
        )
        if response.status_code not in (201, 409):
            raise SeedFailed(describe(response))

    async def customer(item: demo.Customer) -> None:
        body: Json = {
            "kind": item.kind,
            "name": item.name,
            "email": item.email,
            "phone": item.phone,
            "industry": item.industry,
            "billing_address": item.billing,
            "tags": list(item.tags),
            "custom_fields": item.custom_fields,
        }
        if item.shipping:
            body["shipping_address"] = item.shipping
        if item.payment_terms_days is not None:
            body["payment_terms_days"] = item.payment_terms_days
        role = acting(item.owner)
        if item.credit_limit is not None:
            body["credit_limit"] = item.credit_limit
            role = "sales_manager"  # limits are for managers and finance
        if role == "sales_manager":
            body["owner_id"] = company.employees[item.owner]
        # lagging: CRM may not know the new reps yet.
        made = await api.post(
            role,
            "/api/crm/customers",
            body,
            key=f"customer/{item.key}",
            lagging=True,
            existing=True,
        )
        company.customers[item.key] = made["id"]
        for position, (name, email, phone, title) in enumerate(item.contacts):
            contact = {
                "name": name,
                "email": email,
                "phone": phone,
                "title": title,
                "is_primary": position == 0,
            }
            await api.post(
                role,
                f"/api/crm/customers/{made['id']}/contacts",
                contact,
                key=f"contact/{item.key}/{position}",
            )

    await gather(*(customer(item) for item in demo.CUSTOMERS))


async def credit_reviews(api: Api, company: Company) -> None:
    for key, changes in demo.CREDIT_REVIEWS:
        await api.patch("finance", f"/api/crm/customers/{company.customers[key]}", changes)


# --- Leads ----------------------------------------------------------------------------------


async def leads(api: Api, company: Company) -> None:
    async def lead(item: demo.Lead) -> None:
        role = acting(item.owner)
        body: Json = {"name": item.name, "email": item.email, "source": item.source}
        if item.company:
            body["company_name"] = item.company
        if item.notes:
            body["notes"] = item.notes
        made = await api.post(
            role,
            "/api/crm/leads",
            owned(company, item.owner, body),
            key=f"lead/{item.key}",
            lagging=True,
        )
        lead_id = company.leads[item.key] = made["id"]
        path = f"/api/crm/leads/{lead_id}"
        if item.status in ("contacted", "qualified", "converted", "disqualified"):
            await api.post(role, f"{path}/contact", key=f"lead/{item.key}/contact")
        if item.status in ("qualified", "converted"):
            await api.post(role, f"{path}/qualify", key=f"lead/{item.key}/qualify")
        if item.status == "disqualified":
            await api.post(
                role,
                f"{path}/disqualify",
                {"reason": item.reason},
                key=f"lead/{item.key}/disqualify",
            )
        if item.status == "converted":
            conversion: Json = {}
            if item.link_customer:
                conversion["customer_id"] = company.customers[item.link_customer]
            elif item.industry:
                conversion["customer"] = {"industry": item.industry, "tags": ["from-lead"]}
            if item.opportunity:
                name, amount, days = item.opportunity
                conversion["opportunity"] = {
                    "name": name,
                    "amount": amount,
                    "expected_close_date": company.day(days),
                }
            converted = await api.post(
                role, f"{path}/convert", conversion, key=f"lead/{item.key}/convert"
            )
            if not item.link_customer:
                company.customers[f"lead:{item.key}"] = converted["customer_id"]

    await gather(*(lead(item) for item in demo.LEADS))


# --- Opportunities and quotes ---------------------------------------------------------------


async def pipeline(api: Api, company: Company) -> None:
    async def opportunity(item: demo.Opportunity) -> None:
        role = acting(item.owner)
        body = {
            "name": item.name,
            "customer_id": company.customers[item.customer],
            "amount": item.amount,
            "expected_close_date": company.day(item.close_in_days),
        }
        made = await api.post(
            role,
            "/api/crm/opportunities",
            owned(company, item.owner, body),
            key=f"opportunity/{item.key}",
        )
        company.opportunities[item.key] = made["id"]
        for stage in OPEN_STAGES[1 : OPEN_STAGES.index(item.stage) + 1]:
            await api.post(
                role,
                f"/api/crm/opportunities/{made['id']}/stage",
                {"stage": stage},
                key=f"opportunity/{item.key}/{stage}",
            )

    await gather(*(opportunity(item) for item in demo.OPPORTUNITIES))
    await gather(*(quote(api, company, item) for item in demo.QUOTES))

    async def close(item: demo.Opportunity) -> None:
        path = f"/api/crm/opportunities/{company.opportunities[item.key]}"
        role = acting(item.owner)
        if item.outcome == "won":
            await api.post(role, f"{path}/win", key=f"opportunity/{item.key}/win")
        elif item.outcome == "lost":
            body = {"reason": item.loss_reason}
            await api.post(role, f"{path}/lose", body, key=f"opportunity/{item.key}/lose")

    await gather(*(close(item) for item in demo.OPPORTUNITIES if item.outcome))


async def quote(api: Api, company: Company, item: demo.Quote) -> None:
    role = acting(item.owner)
    tax = {product.sku: product.tax_rate for product in demo.PRODUCTS}
    body: Json = {
        "customer_id": company.customers[item.customer],
        "valid_until": company.day(item.valid_days),
        "lines": [
            {
                "sku": sku,
                "quantity": quantity,
                "unit_price": list_price(sku),
                "discount_pct": discount,
                "tax_rate": tax[sku],
            }
            for sku, quantity, discount in item.lines
        ],
    }
    if item.opportunity:
        body["opportunity_id"] = company.opportunities[item.opportunity]
    if item.notes:
        body["notes"] = item.notes
    # lagging: CRM may not know the products yet.
    made = await api.post(
        role,
        "/api/crm/quotes",
        owned(company, item.owner, body),
        key=f"quote/{item.key}",
        lagging=True,
    )
    path = f"/api/crm/quotes/{made['id']}"
    if item.status == "draft":
        return
    await api.post(role, f"{path}/send", key=f"quote/{item.key}/send")
    if item.status == "accepted":
        await api.post(role, f"{path}/accept", key=f"quote/{item.key}/accept")
        company.orders[item.key] = {"quote_id": made["id"]}
    elif item.status == "rejected":
        body = {"reason": item.reason}
        await api.post(role, f"{path}/reject", body, key=f"quote/{item.key}/reject")


# --- Orders, shipments, invoices, payments ---------------------------------------------------


async def direct_orders(api: Api, company: Company) -> None:
    async def order(item: demo.DirectOrder) -> None:
        body: Json = {
            "customer_id": company.customers[item.customer],
            "lines": [
                {"sku": sku, "quantity": quantity, "discount_pct": discount}
                for sku, quantity, discount in item.lines
            ],
        }
        if item.notes:
            body["notes"] = item.notes
        # lagging: ERP may not know the customer yet.
        made = await api.post(
            "sales", "/api/erp/orders", body, key=f"order/{item.key}", lagging=True
        )
        company.orders[item.key] = made

    await gather(*(order(item) for item in demo.DIRECT_ORDERS))


async def quote_orders(api: Api, company: Company) -> None:
    """The orders ERP made from the accepted quotes (crm.quote.accepted.v1)."""

    async def order_of(key: str) -> None:
        quote_id = company.orders[key]["quote_id"]

        async def probe() -> Json | None:
            page = await api.get("sales_manager", "/api/erp/orders", {"quote_id": quote_id})
            return page["items"][0] if page["items"] else None

        company.orders[key] = await poll(f"the ERP order of quote {key}", probe)

    await gather(*(order_of(q.key) for q in demo.QUOTES if q.status == "accepted"))


def _tracking(key: str, number: int) -> str:
    return f"00340434{zlib.crc32(f'{key}/{number}'.encode()):010d}"


async def fulfil(api: Api, company: Company, key: str, plan: dict[str, Any]) -> None:
    order = company.orders[key]
    path = f"/api/erp/orders/{order['id']}"
    if plan.get("cancel"):
        order = await api.post(
            "admin", f"{path}/cancel", {"reason": plan["cancel"]}, key=f"order/{key}/cancel"
        )
    if plan.get("release"):
        order = await api.post("finance", f"{path}/release", key=f"order/{key}/release")
    shipping = plan.get("ship")
    if not shipping:
        company.orders[key] = order
        return
    lines = [(line["sku"], line["quantity"]) for line in order["lines"]]
    if shipping == "all":
        shipments = [lines]
    elif shipping == "part":
        shipments = [[(lines[0][0], max(1, lines[0][1] // 2))]]
    else:
        shipments = [lines[: len(lines) // 2], lines[len(lines) // 2 :]]
    carrier = demo.CARRIERS[zlib.crc32(key.encode()) % len(demo.CARRIERS)]
    for number, shipment in enumerate(shipments, start=1):
        body = {
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in shipment],
            "carrier": carrier,
            "tracking_number": _tracking(key, number),
        }
        await api.post("warehouse", f"{path}/shipments", body, key=f"order/{key}/ship/{number}")
    if plan.get("deliver"):
        await api.post("warehouse", f"{path}/deliver", key=f"order/{key}/deliver")

    async def invoiced() -> list[Json] | None:
        found = await api.get_all(
            "finance", "/api/erp/invoices", {"order_id": order["id"], "sort": "created_at"}
        )
        return found if len(found) >= len(shipments) else None

    invoices: list[Json] = await poll(f"the invoices of order {key}", invoiced)
    for number, (invoice, payment) in enumerate(zip(invoices, plan.get("pay", []), strict=False)):
        if payment is None:
            continue
        total = Decimal(invoice["total"])
        amount = (
            total if payment == "full" else (total * Decimal("0.4")).quantize(CENT, ROUND_HALF_UP)
        )
        methods = demo.PAYMENT_METHODS
        method = methods[zlib.crc32(f"{key}/{number}".encode()) % len(methods)]
        body = {
            "invoice_id": invoice["id"],
            "amount": str(amount),
            "method": method,
            "reference": f"RCPT-{invoice['number']}",
        }
        await api.post("finance", "/api/erp/payments", body, key=f"payment/{key}/{number}")
    company.orders[key] = await api.get("sales_manager", path)


# --- Activities and support -----------------------------------------------------------------


async def activities(api: Api, company: Company) -> None:
    targets = {
        "customer": ("customer_id", company.customers),
        "lead": ("lead_id", company.leads),
        "opportunity": ("opportunity_id", company.opportunities),
    }

    async def log(position: int, item: demo.Activity) -> None:
        kind, _, target = item.target.partition(":")
        field_name, ids = targets[kind]
        body: Json = {
            "kind": item.kind,
            "subject": item.subject,
            "occurred_at": company.at(item.days_ago, 8 + position % 9),
            field_name: ids[target],
        }
        if item.body:
            body["body"] = item.body
        if item.location:
            body["location"] = {"latitude": item.location[0], "longitude": item.location[1]}
        await api.post(item.by, "/api/crm/activities", body, key=f"activity/{item.key}")

    await gather(*(log(n, item) for n, item in enumerate(demo.ACTIVITIES)))


async def inquiries(api: Api, company: Company) -> None:
    async def inquiry(item: demo.Inquiry) -> None:
        body: Json = {
            "channel": item.channel,
            "subject": item.subject,
            "priority": item.priority,
            "customer_id": company.customers[item.customer],
            "assignee_id": company.employees[item.assignee],
        }
        if item.body:
            body["body"] = item.body
        if item.order:
            body["order_id"] = company.orders[item.order]["id"]
        # lagging: CRM may not know the support staff yet.
        made = await api.post(
            "support", "/api/crm/inquiries", body, key=f"inquiry/{item.key}", lagging=True
        )
        path = f"/api/crm/inquiries/{made['id']}"
        steps = {
            "new": [],
            "open": ["open"],
            "pending": ["open", "pend"],
            "resolved": ["open", "resolve"],
            "closed": ["open", "resolve", "close"],
        }[item.status]
        for step in steps:
            step_body = {"resolution": item.resolution} if step == "resolve" else None
            await api.post("support", f"{path}/{step}", step_body, key=f"inquiry/{item.key}/{step}")

    await gather(*(inquiry(item) for item in demo.INQUIRIES))


# --- The whole company ----------------------------------------------------------------------


async def load(gateway_url: str) -> tuple[Census, bool]:
    """Seed the company unless a completed seed is found; its census and whether this run
    loaded it."""
    await check_gateway(gateway_url)
    await ensure_development_employees(gateway_url)
    limits = httpx.Limits(max_connections=CONCURRENCY * 2)
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30.0, limits=limits) as client:
        tokens = await gather(*(sign_in(client, role, f"dev-{role}") for role in ROLES))
        api = Api(client, dict(zip(ROLES, tokens, strict=True)))
        if await seeded_already(api):
            return await census(api), False
        company = Company()
        await people(api, company)
        await gather(catalogue(api, company), books(api, company), customers(api, company))
        await gather(leads(api, company), pipeline(api, company), direct_orders(api, company))
        await quote_orders(api, company)
        await gather(
            *(fulfil(api, company, key, plan) for key, plan in demo.FULFILMENT.items()),
            activities(api, company),
            inquiries(api, company),
            credit_reviews(api, company),
            leaver(api, company),
        )
        # Last: the entry that marks the seed complete.
        await journal_entry(api, company, demo.JOURNAL_ENTRIES[-1])
        return await census(api), True


async def seed(gateway_url: str) -> str:
    """Load the demo company through the gateway (or find it loaded); a one-line summary."""
    found, loaded = await load(gateway_url)
    return found.line() if loaded else f"already seeded, nothing changed: {found.line()}"


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="make seed", description="Load the demo company through the gateway."
    )
    parser.add_argument(
        "--gateway-url",
        default=os.environ.get("GATEWAY_URL", DEFAULT_GATEWAY_URL),
        help=f"default: $GATEWAY_URL or {DEFAULT_GATEWAY_URL}",
    )
    url = parser.parse_args().gateway_url.rstrip("/")
    started = time.monotonic()
    try:
        found, loaded = asyncio.run(load(url))
    except GatewayUnreachable as error:
        print(f"seed: {error}", file=sys.stderr)
        sys.exit(2)
    except (SeedFailed, PlatformFailed, httpx.HTTPError) as error:
        print(f"seed failed: {error.__class__.__name__}: {error}", file=sys.stderr)
        sys.exit(1)
    verb = "loaded" if loaded else "already seeded, nothing changed"
    print(f"Demo company {verb} in {time.monotonic() - started:.1f}s: {found.line()}")
    print("\n".join(found.details()))


if __name__ == "__main__":
    main()
