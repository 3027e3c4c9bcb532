"""The ledger: the seeded chart of accounts, balanced manual entries, reversals instead of
edits, and stock valued at standard cost by the postings of receipts, adjustments, cost
changes and shipments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.support.erp import Erp, ship

pytestmark = pytest.mark.api

SYSTEM_ACCOUNTS = {
    "cash": "asset",
    "bank": "asset",
    "receivables": "asset",
    "inventory": "asset",
    "payables": "liability",
    "tax_payable": "liability",
    "equity": "equity",
    "revenue": "revenue",
    "cogs": "expense",
    "inventory_adjustment": "expense",
    "inventory_revaluation": "expense",
    "salaries_expense": "expense",
}


async def accounts(erp: Erp) -> dict[str, dict[str, Any]]:
    """The chart by system key (or code for accounts without one)."""
    response = await erp.client.get(
        "/ledger/accounts", params={"limit": 200}, headers=erp.headers("finance")
    )
    assert response.status_code == 200, response.text
    return {a["system_key"] or a["code"]: a for a in response.json()["items"]}


async def entries(erp: Erp, **filters: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 200, "sort": "created_at", **filters}
        if cursor:
            params["cursor"] = cursor
        response = await erp.client.get(
            "/ledger/journal-entries", params=params, headers=erp.headers("finance")
        )
        assert response.status_code == 200, response.text
        found.extend(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return found


async def balance(erp: Erp, key: str) -> Decimal:
    """Debits minus credits of an account over every entry."""
    account = (await accounts(erp))[key]
    total = Decimal(0)
    for entry in await entries(erp, account_id=account["id"]):
        for line in entry["lines"]:
            if line["account_id"] == account["id"]:
                total += Decimal(line["debit"]) - Decimal(line["credit"])
    return total


async def inventory_at_cost(erp: Erp) -> Decimal:
    """Units on hand times their product's standard cost, from the stock and product APIs."""
    products = (await erp.client.get("/products?limit=200", headers=erp.headers("admin"))).json()
    cost = {p["id"]: Decimal(p["cost"]) for p in products["items"]}
    levels = (await erp.client.get("/stock?limit=200", headers=erp.headers("admin"))).json()
    return sum(
        (level["on_hand"] * cost[level["product_id"]] for level in levels["items"]), Decimal(0)
    )


def manual(lines: list[tuple[str, str, str]], **fields: Any) -> dict[str, Any]:
    """A manual entry body from (account id, debit, credit) triples."""
    return {
        "entry_date": "2026-11-30",
        "memo": "test",
        "reference": "TEST-1",
        "lines": [
            {"account_id": account, "debit": debit, "credit": credit}
            for account, debit, credit in lines
        ],
        **fields,
    }


async def test_the_chart_of_accounts_is_seeded_and_grows(erp: Erp) -> None:
    chart = await accounts(erp)
    assert {key: chart[key]["type"] for key in SYSTEM_ACCOUNTS} == SYSTEM_ACCOUNTS
    rent = await erp.post(
        "/ledger/accounts", {"code": "6100", "name": "Rent", "type": "expense"}, "finance"
    )
    assert (rent["code"], rent["type"], rent["system_key"]) == ("6100", "expense", None)
    again = await erp.client.post(
        "/ledger/accounts",
        json={"code": "6100", "name": "Rent again", "type": "expense"},
        headers=erp.headers("finance"),
    )
    assert again.status_code == 409
    assert again.json()["existing_id"] == rent["id"]
    bad_type = await erp.client.post(
        "/ledger/accounts",
        json={"code": "6200", "name": "Odd", "type": "income"},
        headers=erp.headers("finance"),
    )
    assert bad_type.status_code == 422
    for role in ("sales", "warehouse", "hr", "support"):
        response = await erp.client.get("/ledger/accounts", headers=erp.headers(role))
        assert response.status_code == 403, role
    after = await accounts(erp)
    assert "6200" not in after
    assert after["6100"] == rent, "the duplicate changed the account"
    assert len(after) == len(chart) + 1


async def test_a_manual_entry_must_balance_and_is_refused_whole_otherwise(erp: Erp) -> None:
    chart = await accounts(erp)
    cash, equity = chart["cash"]["id"], chart["equity"]["id"]
    posted = await erp.post(
        "/ledger/journal-entries",
        manual([(cash, "1000.00", "0"), (equity, "0", "1000.00")], reference="CAP-1"),
        "finance",
    )
    assert posted["number"].startswith("JE-")
    assert (posted["source_type"], posted["reference"]) == ("manual", "CAP-1")
    assert [(line["debit"], line["credit"]) for line in posted["lines"]] == [
        ("1000.00", "0.00"),
        ("0.00", "1000.00"),
    ]
    refused = {
        "unbalanced": manual([(cash, "10.00", "0"), (equity, "0", "9.99")]),
        "both sides": manual([(cash, "10.00", "10.00"), (equity, "0", "0")]),
        "one line": {
            **manual([(cash, "10.00", "0")]),
            "lines": manual([(cash, "10.00", "0")])["lines"],
        },
        "fractions of a cent": manual([(cash, "10.005", "0"), (equity, "0", "10.005")]),
        "unknown account": manual(
            [(cash, "10.00", "0"), ("00000000-0000-4000-8000-000000000000", "0", "10.00")]
        ),
        "negative": manual([(cash, "-10.00", "0"), (equity, "0", "-10.00")]),
    }
    for what, body in refused.items():
        response = await erp.client.post(
            "/ledger/journal-entries", json=body, headers=erp.headers("finance")
        )
        assert response.status_code == 422, what
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"], what
        # Only the entry whose lines are valid but unequal is told it does not balance.
        unbalanced = response.json()["detail"] == "The entry does not balance."
        assert unbalanced == (what == "unbalanced"), (what, response.text)
    assert len(await entries(erp)) == 1
    assert await balance(erp, "cash") == Decimal("1000.00")
    for role in ("sales", "warehouse", "sales_manager"):
        response = await erp.client.post(
            "/ledger/journal-entries",
            json=manual([(cash, "1.00", "0"), (equity, "0", "1.00")]),
            headers=erp.headers(role),
        )
        assert response.status_code == 403, role


async def test_a_posted_entry_is_corrected_only_by_one_reversal(erp: Erp) -> None:
    chart = await accounts(erp)
    cash, equity = chart["cash"]["id"], chart["equity"]["id"]
    posted = await erp.post(
        "/ledger/journal-entries",
        manual([(cash, "250.00", "0"), (equity, "0", "250.00")]),
        "finance",
    )
    for method in ("PATCH", "PUT", "DELETE"):
        response = await erp.client.request(
            method, f"/ledger/journal-entries/{posted['id']}", json={}, headers=erp.headers("admin")
        )
        assert response.status_code == 405, method
    reversal = await erp.post(f"/ledger/journal-entries/{posted['id']}/reverse", {}, "finance")
    assert reversal["reverses_id"] == posted["id"]
    assert reversal["reference"] == posted["number"]
    assert [(line["account_id"], line["debit"], line["credit"]) for line in reversal["lines"]] == [
        (cash, "0.00", "250.00"),
        (equity, "250.00", "0.00"),
    ]
    twice = await erp.client.post(
        f"/ledger/journal-entries/{posted['id']}/reverse", headers=erp.headers("finance")
    )
    assert twice.status_code == 409
    assert twice.json()["existing_id"] == reversal["id"]
    of_reversal = await erp.client.post(
        f"/ledger/journal-entries/{reversal['id']}/reverse", headers=erp.headers("finance")
    )
    assert of_reversal.status_code == 409
    assert await balance(erp, "cash") == Decimal("0.00")


async def test_stock_is_valued_at_standard_cost_through_every_movement(erp: Erp) -> None:
    main = await erp.warehouse("MAIN")
    other = await erp.warehouse("SIDE")
    await erp.product("CHAIR", "100.00", cost="40.00")
    await erp.product("TABLE", "300.00", cost="120.50")
    await erp.receive("CHAIR", 10)
    await erp.receive("TABLE", 4)
    assert await balance(erp, "inventory") == Decimal("882.00")
    assert await balance(erp, "payables") == Decimal("-882.00")

    # Found two chairs, lost one table.
    for sku, quantity in (("CHAIR", 2), ("TABLE", -1)):
        await erp.post(
            "/stock/movements",
            {
                "kind": "adjustment",
                "sku": sku,
                "warehouse_id": main["id"],
                "quantity": quantity,
                "reason": "count",
            },
            "warehouse",
        )
    assert await balance(erp, "inventory_adjustment") == Decimal("40.50")  # 120.50 - 80.00
    # A transfer moves value between warehouses, not out of inventory.
    await erp.post(
        "/stock/movements",
        {
            "kind": "transfer",
            "sku": "CHAIR",
            "from_warehouse_id": main["id"],
            "to_warehouse_id": other["id"],
            "quantity": 5,
        },
        "warehouse",
    )
    chair = (await erp.client.get("/products?sku=CHAIR", headers=erp.headers("admin"))).json()[
        "items"
    ][0]
    repriced = await erp.client.patch(
        f"/products/{chair['id']}", json={"cost": "42.50"}, headers=erp.headers("warehouse")
    )
    assert repriced.status_code == 200, repriced.text
    assert await balance(erp, "inventory_revaluation") == Decimal("-30.00")  # 12 chairs x 2.50

    customer = await erp.customer()
    order = await erp.order(customer, [("CHAIR", 3), ("TABLE", 2)])
    assert (await ship(erp, order, [("CHAIR", 3), ("TABLE", 1)])).status_code == 201
    assert await balance(erp, "cogs") == Decimal("248.00")  # 3 x 42.50 + 120.50
    [shipment_entry] = await entries(erp, source_type="shipment")
    assert shipment_entry["reference"].startswith("SH-")

    assert await balance(erp, "inventory") == await inventory_at_cost(erp)
    assert await balance(erp, "inventory") == Decimal("623.50")  # 9 x 42.50 + 2 x 120.50


async def test_entries_of_business_documents_are_corrected_through_the_documents(
    erp: Erp,
) -> None:
    await erp.warehouse("MAIN")
    await erp.product("LAMP", "100.00", cost="40.00", tax_rate="19")
    await erp.receive("LAMP", 10)
    order = await erp.order(await erp.customer(), [("LAMP", 2)])
    assert (await ship(erp, order, [("LAMP", 2)])).status_code == 201
    [invoice] = await erp.invoice_shipments()
    [invoice_entry] = await entries(erp, source_type="invoice")
    [shipment_entry] = await entries(erp, source_type="shipment")
    [receipt_entry] = await entries(erp, source_type="stock_movement")

    for entry, hint in (
        (invoice_entry, "void the invoice"),
        (shipment_entry, "the goods left"),
        (receipt_entry, "stock adjustment"),
    ):
        refused = await erp.client.post(
            f"/ledger/journal-entries/{entry['id']}/reverse",
            json={},
            headers=erp.headers("finance"),
        )
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert hint in refused.json()["detail"]
        assert refused.json()["source_type"] == entry["source_type"]
    assert await entries(erp, source_type="reversal") == []
    assert await balance(erp, "receivables") == Decimal("238.00")
    assert await balance(erp, "inventory") == await inventory_at_cost(erp) == Decimal("320.00")

    # The invoice corrects itself: voiding reverses its entry.
    voided = await erp.post(f"/invoices/{invoice['id']}/void", {"reason": "wrong"}, "finance")
    assert voided["status"] == "void"
    assert await balance(erp, "receivables") == Decimal("0.00")


async def test_manual_entries_leave_the_accounts_sub_ledgers_keep_alone(erp: Erp) -> None:
    chart = await accounts(erp)
    cash, equity = chart["cash"]["id"], chart["equity"]["id"]
    for key in ("inventory", "receivables"):
        account = chart[key]["id"]
        for lines in (
            [(account, "100.00", "0"), (equity, "0", "100.00")],
            [(cash, "100.00", "0"), (account, "0", "100.00")],
        ):
            response = await erp.client.post(
                "/ledger/journal-entries", json=manual(lines), headers=erp.headers("finance")
            )
            assert response.status_code == 422, (key, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            [error] = response.json()["errors"]
            index = [line[0] for line in lines].index(account)
            assert error["field"] == f"lines.{index}.account_id"
            assert key in error["message"]
    assert await entries(erp) == []
    # Every other account, the other system accounts included, takes manual entries.
    posted = await erp.post(
        "/ledger/journal-entries",
        manual([(cash, "100.00", "0"), (equity, "0", "100.00")]),
        "finance",
    )
    assert posted["source_type"] == "manual"


async def test_a_reversal_is_never_dated_before_the_entry_it_reverses(erp: Erp) -> None:
    chart = await accounts(erp)
    cash, equity = chart["cash"]["id"], chart["equity"]["id"]
    posted = await erp.post(
        "/ledger/journal-entries",
        manual([(cash, "80.00", "0"), (equity, "0", "80.00")], entry_date="2026-11-30"),
        "finance",
    )
    early = await erp.client.post(
        f"/ledger/journal-entries/{posted['id']}/reverse",
        json={"entry_date": "2026-11-29"},
        headers=erp.headers("finance"),
    )
    assert early.status_code == 422, early.text
    assert early.headers["content-type"] == "application/problem+json"
    assert early.json()["errors"] == [{"field": "entry_date", "message": "on or after 2026-11-30"}]
    assert await entries(erp, source_type="reversal") == []
    same_day = await erp.post(
        f"/ledger/journal-entries/{posted['id']}/reverse", {"entry_date": "2026-11-30"}, "finance"
    )
    assert (same_day["entry_date"], same_day["reverses_id"]) == ("2026-11-30", posted["id"])


async def test_a_manual_entry_names_the_source_document_it_books(erp: Erp) -> None:
    chart = await accounts(erp)
    lines = [(chart["cash"]["id"], "60.00", "0"), (chart["equity"]["id"], "0", "60.00")]
    without = manual(lines)
    del without["reference"]
    for what, body in {
        "missing": without,
        "null": manual(lines, reference=None),
        "empty": manual(lines, reference=""),
        "blank": manual(lines, reference=" \t "),
    }.items():
        response = await erp.client.post(
            "/ledger/journal-entries", json=body, headers=erp.headers("finance")
        )
        assert response.status_code == 422, (what, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert [error["field"] for error in response.json()["errors"]] == ["reference"], what
    assert await entries(erp) == []
    posted = await erp.post(
        "/ledger/journal-entries", manual(lines, reference="  LEASE-2026-11 "), "finance"
    )
    assert (posted["source_type"], posted["reference"]) == ("manual", "LEASE-2026-11")
    # Its reversal names the entry it reverses.
    reversal = await erp.post(f"/ledger/journal-entries/{posted['id']}/reverse", {}, "finance")
    assert reversal["reference"] == posted["number"]


async def test_a_cost_change_entry_names_its_product_as_source(erp: Erp) -> None:
    await erp.warehouse("MAIN")
    chair = await erp.product("CHAIR", "100.00", cost="40.00")
    table = await erp.product("TABLE", "300.00", cost="120.00")
    await erp.receive("CHAIR", 10)
    await erp.receive("TABLE", 2)
    # A product changes cost again and again: one entry per change, each naming it.
    for product, cost in ((chair, "42.00"), (table, "110.00"), (chair, "41.00")):
        response = await erp.client.patch(
            f"/products/{product['id']}", json={"cost": cost}, headers=erp.headers("warehouse")
        )
        assert response.status_code == 200, response.text
    changes = await entries(erp, source_type="cost_change")
    assert [(e["source_id"], e["reference"]) for e in changes] == [
        (chair["id"], "CHAIR"),
        (table["id"], "TABLE"),
        (chair["id"], "CHAIR"),
    ]
    of_chair = await entries(erp, source_type="cost_change", source_id=chair["id"])
    assert [e["id"] for e in of_chair] == [changes[0]["id"], changes[2]["id"]]
    chart = await accounts(erp)
    # 10 chairs 1.00 cheaper each: Dr revaluation / Cr inventory.
    assert [
        (line["account_id"], line["debit"], line["credit"]) for line in of_chair[1]["lines"]
    ] == [
        (chart["inventory_revaluation"]["id"], "10.00", "0.00"),
        (chart["inventory"]["id"], "0.00", "10.00"),
    ]
    # The product's id names only its cost changes: its receipt's entry names the movement.
    assert [e["source_id"] for e in await entries(erp, source_id=chair["id"])] == [
        chair["id"],
        chair["id"],
    ]
    assert await entries(erp, source_type="stock_movement", source_id=chair["id"]) == []
    assert await balance(erp, "inventory") == await inventory_at_cost(erp)


async def test_entries_are_listed_by_when_posted_and_by_accounting_date(erp: Erp) -> None:
    chart = await accounts(erp)
    lines = [(chart["cash"]["id"], "5.00", "0"), (chart["equity"]["id"], "0", "5.00")]
    posted = [
        await erp.post(
            "/ledger/journal-entries",
            manual(lines, entry_date=day, reference=f"R-{day}"),
            "finance",
        )
        for day in ("2026-11-30", "2026-10-01", "2026-11-15")
    ]
    ids = [entry["id"] for entry in posted]
    assert [e["id"] for e in await entries(erp)] == ids  # sorted by created_at
    middle = posted[1]["created_at"]
    assert [e["id"] for e in await entries(erp, created_from=middle)] == ids[1:]
    assert [e["id"] for e in await entries(erp, created_to=middle)] == ids[:1]
    assert [
        e["id"] for e in await entries(erp, created_from=middle, created_to=posted[2]["created_at"])
    ] == ids[1:2]
    # date_from / date_to keep selecting by the entry's date, both ends included.
    by_date = await entries(erp, date_from="2026-11-15", date_to="2026-11-30")
    assert sorted(e["id"] for e in by_date) == sorted([ids[0], ids[2]])
    for bad in ({"created_from": "2026-11-30T00:00:00"}, {"created_to": "yesterday"}):
        response = await erp.client.get(
            "/ledger/journal-entries", params=bad, headers=erp.headers("finance")
        )
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == f"query.{next(iter(bad))}"
