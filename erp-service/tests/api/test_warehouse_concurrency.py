"""Warehouses under concurrency: however many are created or made default at once, each
request succeeds and exactly one warehouse ends as the default; a warehouse deactivated
while orders are being placed in it is left with no order waiting on it (SQLite and
PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.erp import Erp

pytestmark = pytest.mark.api


async def defaults(erp: Erp) -> list[str]:
    listed = await erp.client.get(
        "/warehouses", params={"is_default": "true"}, headers=erp.headers("warehouse")
    )
    assert listed.status_code == 200, listed.text
    return [warehouse["code"] for warehouse in listed.json()["items"]]


async def test_warehouses_created_at_once_on_a_fresh_database_leave_exactly_one_default(
    erp: Erp,
) -> None:
    headers = erp.headers("warehouse")

    async def create(index: int) -> Any:
        # Some ask to be the default, the rest would become it only as the first one.
        body = {"code": f"W{index:02d}", "name": f"Warehouse {index}", "is_default": index % 3 == 0}
        return await erp.client.post("/warehouses", json=body, headers=headers)

    responses = await asyncio.gather(*(create(index) for index in range(12)))
    assert [response.status_code for response in responses] == [201] * 12, [
        response.text for response in responses if response.status_code != 201
    ]
    assert len(await defaults(erp)) == 1
    listed = await erp.client.get("/warehouses", params={"limit": 50}, headers=headers)
    assert len(listed.json()["items"]) == 12


async def test_warehouses_made_default_at_once_leave_exactly_one_default(erp: Erp) -> None:
    warehouses = [await erp.warehouse(f"W{index:02d}") for index in range(8)]
    assert await defaults(erp) == ["W00"]
    headers = erp.headers("warehouse")

    async def make_default(warehouse: dict[str, Any]) -> Any:
        return await erp.client.post(f"/warehouses/{warehouse['id']}/make-default", headers=headers)

    responses = await asyncio.gather(*(make_default(warehouse) for warehouse in warehouses))
    assert [response.status_code for response in responses] == [200] * 8, [
        response.text for response in responses if response.status_code != 200
    ]
    assert all(response.json()["is_default"] for response in responses)
    assert len(await defaults(erp)) == 1


async def test_a_warehouse_switched_from_default_and_deactivated_while_orders_arrive_keeps_none(
    erp: Erp,
) -> None:
    """Orders placed in the default warehouse while another becomes the default and the
    former one is deactivated: either the deactivation is refused (409) because an order
    waits there, or no order was left waiting on the inactive warehouse."""
    first = await erp.warehouse("FIRST")
    second = await erp.warehouse("SECOND")
    await erp.product("LAMP")
    customer = await erp.customer()
    headers = erp.headers("warehouse")

    async def switch_and_deactivate() -> Any:
        switched = await erp.client.post(
            f"/warehouses/{second['id']}/make-default", headers=headers
        )
        assert switched.status_code == 200, switched.text
        return await erp.client.patch(
            f"/warehouses/{first['id']}", json={"active": False}, headers=headers
        )

    async def place() -> Any:
        body = {"customer_id": str(customer), "lines": [{"sku": "LAMP", "quantity": 1}]}
        return await erp.client.post("/orders", json=body, headers=erp.headers("sales"))

    *placed, deactivation = await asyncio.gather(
        *(place() for _ in range(8)), switch_and_deactivate()
    )
    assert [response.status_code for response in placed] == [201] * 8, [
        response.text for response in placed if response.status_code != 201
    ]
    in_first = [
        order for order in (r.json() for r in placed) if order["warehouse_id"] == first["id"]
    ]
    assert all(order["status"] == "backordered" for order in in_first)
    if in_first:
        assert deactivation.status_code == 409, deactivation.text
        assert deactivation.json()["open_orders"] == len(in_first)
    else:
        assert deactivation.status_code == 200, deactivation.text
    now = await erp.client.get(f"/warehouses/{first['id']}", headers=headers)
    assert now.json()["active"] is (deactivation.status_code == 409)


async def test_a_warehouse_deactivated_while_stock_arrives_there_is_left_holding_none(
    erp: Erp,
) -> None:
    """Receipts into a warehouse while it is deactivated: either the deactivation is
    refused (409) because stock landed there, or no receipt landed in it at all."""
    await erp.warehouse("MAIN")
    side = await erp.warehouse("SIDE")
    await erp.product("LAMP")
    headers = erp.headers("warehouse")

    async def receive() -> Any:
        body = {"kind": "receipt", "sku": "LAMP", "warehouse_id": side["id"], "quantity": 1}
        return await erp.client.post("/stock/movements", json=body, headers=headers)

    async def deactivate() -> Any:
        return await erp.client.patch(
            f"/warehouses/{side['id']}", json={"active": False}, headers=headers
        )

    *received, deactivation = await asyncio.gather(*(receive() for _ in range(8)), deactivate())
    assert {response.status_code for response in received} <= {201, 422}, [
        response.text for response in received
    ]
    landed = sum(response.status_code == 201 for response in received)
    levels = await erp.client.get("/stock", params={"warehouse_id": side["id"]}, headers=headers)
    on_hand = sum(level["on_hand"] for level in levels.json()["items"])
    assert on_hand == landed
    if deactivation.status_code == 200:
        assert landed == 0, "stock landed in a warehouse deactivated as empty"
    else:
        assert deactivation.status_code == 409, deactivation.text
        assert landed > 0
