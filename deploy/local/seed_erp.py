"""The demo seed's ERP steps: people and departments, catalogue and stock, the books, and
orders with their shipments, invoices and payments."""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from deploy.local import demo_data as demo
from deploy.local.seed_api import Api, Json, SeedFailed, describe, gather, poll
from deploy.local.seed_company import Company

CENT = Decimal("0.01")


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
