"""Finance records changed by two requests at once, on PostgreSQL, where writers
interleave: each race is staged by holding a row both requests need, so they meet in the
order that used to go wrong, and each must end as it would had they come one after the
other (never a 500, never money created or lost)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from tests.support.erp import Erp
from tests.support.races import holding, require_postgresql, waiting

pytestmark = pytest.mark.api

MONTH = "2026-11"


async def test_a_budget_set_while_it_is_removed_is_set_again(erp: Erp) -> None:
    """A removal and a replacement of one month's budget queue behind a third writer, the
    removal first: the replacement then finds the budget gone and sets it anew, as it
    would had it come after the removal (it was a 500)."""
    require_postgresql(erp.engine)
    account = await erp.post(
        "/ledger/accounts", {"code": "6100", "name": "Rent", "type": "expense"}, "finance"
    )
    path = f"/budgets/{account['id']}/{MONTH}"
    headers = erp.headers("finance")
    created = await erp.client.put(path, json={"amount": "1500.00"}, headers=headers)
    assert created.status_code == 201, created.text

    async with holding(
        erp.engine, "SELECT 1 FROM budgets WHERE month = :month FOR UPDATE", month=MONTH
    ):
        removal = asyncio.create_task(erp.client.delete(path, headers=headers))
        await waiting(erp.engine, 1)
        replacement = asyncio.create_task(
            erp.client.put(path, json={"amount": "1400.00"}, headers=headers)
        )
        await waiting(erp.engine, 2)
    removed, replaced = await removal, await replacement
    assert removed.status_code == 204, removed.text
    assert replaced.status_code == 201, replaced.text
    assert replaced.json()["amount"] == "1400.00"
    listed = await erp.client.get("/budgets", params={"month": MONTH}, headers=headers)
    assert [(b["account_id"], b["amount"]) for b in listed.json()["items"]] == [
        (account["id"], "1400.00")
    ]


async def inventory_and_stock_value(erp: Erp) -> tuple[Decimal, Decimal]:
    """The inventory account's balance, and the units on hand at their products' cost."""
    trial = await erp.client.get(
        "/reports/trial-balance", params={"as_of": "2999-12-31"}, headers=erp.headers("finance")
    )
    [inventory] = [row for row in trial.json()["accounts"] if row["code"] == "1200"]
    headers = erp.headers("admin")
    products = (await erp.client.get("/products", headers=headers)).json()["items"]
    cost = {product["id"]: Decimal(product["cost"]) for product in products}
    levels = (await erp.client.get("/stock", headers=headers)).json()["items"]
    return (
        Decimal(inventory["debit_total"]) - Decimal(inventory["credit_total"]),
        sum((level["on_hand"] * cost[level["product_id"]] for level in levels), Decimal(0)),
    )


async def test_a_cost_change_while_stock_moves_to_a_new_warehouse_is_no_deadlock(
    erp: Erp,
) -> None:
    """A cost change holds the product's levels and waits for the product's row; a
    transfer to a warehouse that never had the product creates its level there (naming
    the product) and waits for the source level the change holds. Both succeed, the
    cost change first, and the inventory account still equals the units on hand at the
    new cost (one of the two failed with a deadlock)."""
    require_postgresql(erp.engine)
    one, two = await erp.warehouse("ONE"), await erp.warehouse("TWO")
    # Levels are locked in key order: the new level comes before the source's.
    empty, stocked = sorted([one, two], key=lambda warehouse: str(warehouse["id"]))
    product = await erp.product("CHAIR", "10.00", cost="4.00", tax_rate="0")
    await erp.receive("CHAIR", 10, warehouse=stocked)
    transfer = {
        "kind": "transfer",
        "sku": "CHAIR",
        "from_warehouse_id": stocked["id"],
        "to_warehouse_id": empty["id"],
        "quantity": 3,
    }
    headers = erp.headers("admin")

    # A movement reading the cost holds it: the change waits for it with the levels held.
    async with holding(erp.engine, "SELECT 1 FROM products WHERE sku = 'CHAIR' FOR SHARE"):
        change = asyncio.create_task(
            erp.client.patch(f"/products/{product['id']}", json={"cost": "7.00"}, headers=headers)
        )
        await waiting(erp.engine, 1)
        moved = asyncio.create_task(
            erp.client.post("/stock/movements", json=transfer, headers=headers)
        )
        await waiting(erp.engine, 2)
    changed, transferred = await change, await moved
    assert changed.status_code == 200, changed.text
    assert changed.json()["cost"] == "7.00"
    assert transferred.status_code == 201, transferred.text
    assert [level["on_hand"] for level in transferred.json()["levels"]] == [7, 3]
    assert await inventory_and_stock_value(erp) == (Decimal("70.00"), Decimal("70.00"))
