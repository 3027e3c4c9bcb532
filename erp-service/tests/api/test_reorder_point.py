"""Raising a product's reorder point above what a warehouse has available is news too:
`erp.stock.low.v1`, once per crossing, as when a movement takes stock below it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.erp import Erp

pytestmark = pytest.mark.api


async def set_reorder_point(erp: Erp, product: dict[str, Any], point: int) -> None:
    response = await erp.client.patch(
        f"/products/{product['id']}",
        json={"reorder_point": point},
        headers=erp.headers("warehouse"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["reorder_point"] == point


async def lows(erp: Erp) -> list[dict[str, Any]]:
    return [event["data"] for event in await erp.events("erp.stock.low.v1")]


async def test_raising_the_reorder_point_above_available_stock_publishes_stock_low(
    erp: Erp,
) -> None:
    berlin = await erp.warehouse("BER")
    hamburg = await erp.warehouse("HAM")
    product = await erp.product("WIDGET-1", reorder_point=2)
    await erp.receive("WIDGET-1", 8, warehouse=berlin)
    await erp.receive("WIDGET-1", 20, warehouse=hamburg)

    await set_reorder_point(erp, product, 8)  # 8 available in Berlin: not below
    assert await lows(erp) == []

    await set_reorder_point(erp, product, 10)  # Berlin now below; Hamburg (20) is not
    assert await lows(erp) == [
        {
            "version": 1,
            "product_id": product["id"],
            "sku": "WIDGET-1",
            "warehouse_id": berlin["id"],
            "on_hand": 8,
            "reserved": 0,
            "available": 8,
            "reorder_point": 10,
        }
    ]
    [low] = await erp.events("erp.stock.low.v1")
    assert low["subject"] == product["id"]

    await set_reorder_point(erp, product, 12)  # still below in Berlin: no news
    await set_reorder_point(erp, product, 20)  # Hamburg's 20 are not below 20
    assert len(await lows(erp)) == 1

    await set_reorder_point(erp, product, 21)  # Hamburg crosses; Berlin stays below
    assert [(low["warehouse_id"], low["reorder_point"]) for low in await lows(erp)] == [
        (berlin["id"], 10),
        (hamburg["id"], 21),
    ]

    # Lowered below what Berlin has, then raised above it again: news again.
    await set_reorder_point(erp, product, 3)
    await set_reorder_point(erp, product, 9)
    assert [(low["warehouse_id"], low["reorder_point"]) for low in await lows(erp)] == [
        (berlin["id"], 10),
        (hamburg["id"], 21),
        (berlin["id"], 9),
    ]
    # The product's own events came with each change, the levels did not move.
    assert len(await erp.events("erp.product.updated.v1")) == 7
    level = await erp.stock_level("WIDGET-1", berlin)
    assert level is not None
    assert (level["available"], level["version"]) == (8, 1)
    assert (await erp.stock_check())["drift"] == []


async def test_a_movement_after_a_raised_reorder_point_is_judged_by_the_new_point(
    erp: Erp,
) -> None:
    warehouse = await erp.warehouse("BER")
    product = await erp.product("WIDGET-1", reorder_point=0)
    await erp.receive("WIDGET-1", 8, warehouse=warehouse)
    await set_reorder_point(erp, product, 5)  # 8 ≥ 5: not low
    customer = await erp.customer()
    order = await erp.order(customer, [("WIDGET-1", 4)])  # 8 → 4: below 5
    assert order["status"] == "confirmed"
    assert [(low["available"], low["reorder_point"]) for low in await lows(erp)] == [(4, 5)]


async def test_stock_that_arrives_and_goes_to_backorders_at_once_is_judged_by_its_net_change(
    erp: Erp,
) -> None:
    """A receipt lifts available above the point and the backorders it fills take it below
    again, in one transaction: nobody ever saw it recover, so stock that was low before is
    not announced low again; stock that was not low before is announced once."""
    await erp.warehouse("BER")
    await erp.product("WIDGET-1", reorder_point=10)
    await erp.receive("WIDGET-1", 12)
    customer = await erp.customer()
    first = await erp.order(customer, [("WIDGET-1", 25)])  # 12 → 0: low, waits for 13
    assert first["status"] == "backordered"
    assert [(low["available"], low["version"]) for low in await lows(erp)] == [(0, 2)]

    await erp.receive("WIDGET-1", 15)  # 0 → 15 → 2 in one transaction: still low
    assert (await erp.get_order(first["id"]))["status"] == "confirmed"
    level = await erp.stock_level("WIDGET-1")
    assert level is not None
    assert (level["on_hand"], level["reserved"], level["available"]) == (27, 25, 2)
    assert len(await lows(erp)) == 1

    # Cancelling gives units back that go on to a waiting order: 2 → 7 → 3, still low.
    second = await erp.order(customer, [("WIDGET-1", 6)])  # reserves 2 → 0, waits for 4
    assert second["status"] == "backordered"
    third = await erp.order(customer, [("WIDGET-1", 1)])
    assert third["status"] == "backordered"
    response = await erp.client.post(
        f"/orders/{second['id']}/cancel", json={}, headers=erp.headers("admin")
    )
    assert response.status_code == 200, response.text
    assert (await erp.get_order(third["id"]))["status"] == "confirmed"
    level = await erp.stock_level("WIDGET-1")
    assert level is not None
    assert level["available"] == 1
    assert len(await lows(erp)) == 1

    # Up from not low, through the point, and down below it by the backorders: once.
    await erp.receive("WIDGET-1", 40)  # 1 → 41: not low any more
    fourth = await erp.order(customer, [("WIDGET-1", 60)])  # 41 → 0: low, waits for 19
    assert fourth["status"] == "backordered"
    assert len(await lows(erp)) == 2
    await erp.receive("WIDGET-1", 30)  # 0 → 30 → 11: above the point
    assert len(await lows(erp)) == 2
    fifth = await erp.order(customer, [("WIDGET-1", 20)])  # 11 → 0: one order, one crossing
    assert fifth["status"] == "backordered"
    assert [low["available"] for low in await lows(erp)] == [0, 0, 0]
    await erp.receive("WIDGET-1", 5)  # 0 → 5 → 0: was low, is low
    assert len(await lows(erp)) == 3
    assert (await erp.stock_check())["drift"] == []
