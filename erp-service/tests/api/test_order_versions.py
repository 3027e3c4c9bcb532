"""An order's version counts its changes one by one: each change a client or a consumer
can see is one version, and the events carry every version the order had."""

from __future__ import annotations

import pytest

from tests.support.erp import Erp, ship

pytestmark = pytest.mark.api


async def test_the_shipment_that_ships_an_order_in_full_is_one_version(erp: Erp) -> None:
    await erp.warehouse("MAIN")
    await erp.product("WIDGET", "100.00")
    await erp.receive("WIDGET", 10)
    order = await erp.order(await erp.customer(), [("WIDGET", 3)])
    assert (order["status"], order["version"]) == ("confirmed", 2)

    part = await ship(erp, order, [("WIDGET", 1)])
    assert part.status_code == 201, part.text
    assert part.json()["order_version"] == 3
    rest = await ship(erp, order, [("WIDGET", 2)], shipped_at=part.json()["shipped_at"])
    assert rest.status_code == 201, rest.text
    assert (rest.json()["order_status"], rest.json()["order_version"]) == ("shipped", 4)

    shipped = await erp.get_order(order["id"])
    assert (shipped["status"], shipped["version"]) == ("shipped", 4)
    assert shipped["shipped_at"] == part.json()["shipped_at"]
    versions = [
        event["data"]["version"]
        for event in await erp.events()
        if event["type"].startswith("erp.order.") and event["subject"] == order["id"]
    ]
    assert versions == [1, 2, 3, 4]


async def test_an_order_shipped_at_once_then_delivered_skips_no_version(erp: Erp) -> None:
    await erp.warehouse("MAIN")
    await erp.product("WIDGET", "100.00")
    await erp.receive("WIDGET", 10)
    order = await erp.order(await erp.customer(), [("WIDGET", 2)])

    shipped = await ship(erp, order, [("WIDGET", 2)])
    assert shipped.status_code == 201, shipped.text
    assert shipped.json()["order_version"] == 3
    delivered = await erp.client.post(
        f"/orders/{order['id']}/deliver", json={}, headers=erp.headers("warehouse")
    )
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["version"] == 4
    assert delivered.headers["etag"] == '"4"'
