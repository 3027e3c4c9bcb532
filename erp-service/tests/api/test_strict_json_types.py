"""Whole numbers and yes/no values in a request body are taken only as a JSON integer and
a JSON boolean: `true` is not a quantity of 1, `"2"` and `2.0` are not 2, `"yes"` and `1`
are not true. Anything else is a 422 naming the field, and nothing is created, moved or
changed (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.erp import Erp, ship

pytestmark = pytest.mark.api

NOT_INTEGERS: tuple[Any, ...] = (True, False, "2", "5", 2.0, 5.0)
NOT_BOOLEANS: tuple[Any, ...] = ("yes", "true", "false", 1, 0, 1.0)
PRODUCT = {
    "sku": "CHAIR-1",
    "name": "Chair",
    "unit_price": "10.00",
    "tax_rate": "19",
    "cost": "6.00",
}


def assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def listed(erp: Erp, path: str, role: str = "admin") -> list[dict[str, Any]]:
    response = await erp.client.get(path, headers=erp.headers(role))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_product_with_a_reorder_point_or_active_flag_of_the_wrong_type_is_not_created(
    erp: Erp,
) -> None:
    headers = erp.headers("warehouse")
    for value in NOT_INTEGERS:
        response = await erp.client.post(
            "/products", json=PRODUCT | {"reorder_point": value}, headers=headers
        )
        assert_refused(response, "reorder_point")
    for value in NOT_BOOLEANS:
        response = await erp.client.post(
            "/products", json=PRODUCT | {"active": value}, headers=headers
        )
        assert_refused(response, "active")
    response = await erp.client.post(
        "/products", json=PRODUCT | {"unit_price": True}, headers=headers
    )
    assert_refused(response, "unit_price")
    assert await listed(erp, "/products") == []
    assert await erp.events() == []

    product = await erp.post(
        "/products", PRODUCT | {"reorder_point": 5, "active": False}, role="warehouse"
    )
    assert (product["reorder_point"], product["active"]) == (5, False)


async def test_a_product_changed_with_values_of_the_wrong_type_stays_as_it_was(erp: Erp) -> None:
    product = await erp.product("CHAIR-1", reorder_point=3)
    url = f"/products/{product['id']}"
    headers = erp.headers("warehouse")
    for value in NOT_INTEGERS:
        response = await erp.client.patch(url, json={"reorder_point": value}, headers=headers)
        assert_refused(response, "reorder_point")
    for value in NOT_BOOLEANS:
        response = await erp.client.patch(url, json={"active": value}, headers=headers)
        assert_refused(response, "active")
    assert (await erp.client.get(url, headers=headers)).json() == product
    assert await erp.events("erp.product.updated.v1") == []

    changed = await erp.client.patch(url, json={"reorder_point": 7}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["reorder_point"] == 7


async def test_an_order_line_quantity_must_be_an_integer(erp: Erp) -> None:
    await erp.warehouse("MAIN")
    await erp.product("CHAIR-1")
    await erp.receive("CHAIR-1", 10)
    customer_id = await erp.customer()
    events = await erp.events()
    for value in NOT_INTEGERS:
        body = {"customer_id": str(customer_id), "lines": [{"sku": "CHAIR-1", "quantity": value}]}
        response = await erp.client.post("/orders", json=body, headers=erp.headers("sales"))
        assert_refused(response, "lines.0.quantity")
    assert await listed(erp, "/orders") == []
    assert await erp.events() == events
    level = await erp.stock_level("CHAIR-1")
    assert level is not None
    assert (level["on_hand"], level["reserved"]) == (10, 0)

    order = await erp.order(customer_id, [("CHAIR-1", 2)])
    assert [line["quantity"] for line in order["lines"]] == [2]


async def test_a_stock_movement_quantity_must_be_an_integer(erp: Erp) -> None:
    warehouse = await erp.warehouse("MAIN")
    await erp.product("CHAIR-1")
    events = await erp.events()
    headers = erp.headers("warehouse")
    for value in NOT_INTEGERS:
        body = {
            "kind": "receipt",
            "sku": "CHAIR-1",
            "warehouse_id": warehouse["id"],
            "quantity": value,
        }
        response = await erp.client.post("/stock/movements", json=body, headers=headers)
        assert_refused(response, "quantity")
    assert await listed(erp, "/stock/movements", "warehouse") == []
    assert await erp.stock_level("CHAIR-1") is None
    assert await erp.events() == events

    received = await erp.receive("CHAIR-1", 5)
    assert [level["on_hand"] for level in received["levels"]] == [5]


async def test_a_shipment_line_quantity_must_be_an_integer(erp: Erp) -> None:
    await erp.warehouse("MAIN")
    await erp.product("CHAIR-1")
    await erp.receive("CHAIR-1", 10)
    order = await erp.order(await erp.customer(), [("CHAIR-1", 3)])
    events = await erp.events()
    for value in NOT_INTEGERS:
        response = await ship(erp, order, [{"sku": "CHAIR-1", "quantity": value}])
        assert_refused(response, "lines.0.quantity")
    assert await listed(erp, "/shipments") == []
    assert await erp.get_order(order["id"]) == order
    assert await erp.events() == events

    shipped = await ship(erp, order, [("CHAIR-1", 2)])
    assert shipped.status_code == 201, shipped.text
    assert [line["quantity"] for line in shipped.json()["lines"]] == [2]


async def test_warehouse_flags_are_true_or_false_only(erp: Erp) -> None:
    headers = erp.headers("warehouse")
    body = {"code": "MAIN", "name": "Main"}
    for value in NOT_BOOLEANS:
        response = await erp.client.post(
            "/warehouses", json=body | {"is_default": value}, headers=headers
        )
        assert_refused(response, "is_default")
    assert await listed(erp, "/warehouses") == []

    warehouse = await erp.warehouse("MAIN", default=True)
    url = f"/warehouses/{warehouse['id']}"
    for value in NOT_BOOLEANS:
        response = await erp.client.patch(url, json={"active": value}, headers=headers)
        assert_refused(response, "active")
    assert (await erp.client.get(url, headers=headers)).json() == warehouse

    side = await erp.warehouse("SIDE")
    closed = await erp.client.patch(
        f"/warehouses/{side['id']}", json={"active": False}, headers=headers
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["active"] is False
