"""The stock screen's list of levels below their product's reorder point: available units
(on hand less reserved) compared per warehouse, every page walked with small limits."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.erp import Erp

pytestmark = pytest.mark.api

REORDER_POINTS = {"P1": 5, "P2": 10, "P3": 0, "P4": 3, "P5": 7}


async def walk(erp: Erp, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": 2, **params, **({"cursor": cursor} if cursor else {})}
        response = await erp.client.get("/stock", params=query, headers=erp.headers("warehouse"))
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return found


def keys(levels: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(level["sku"], level["warehouse_id"]) for level in levels]


async def test_levels_below_their_reorder_point_are_listed_over_pages(erp: Erp) -> None:
    berlin = await erp.warehouse("BER", default=True)
    hamburg = await erp.warehouse("HAM")
    for sku, point in REORDER_POINTS.items():
        await erp.product(sku, "10.00", cost="4.00", reorder_point=point)
    received = (("P1", 3, 5), ("P2", 9, 12), ("P3", 1, 0), ("P4", 5, 4), ("P5", 6, 6))
    for sku, here, there in received:
        await erp.receive(sku, here, warehouse=berlin)
        if there:
            await erp.receive(sku, there, warehouse=hamburg)
    # 3 of Berlin's 5 P4 reserved: 2 available, below 3, though 5 are on hand.
    order = await erp.order(await erp.customer(), [("P4", 3)])
    assert order["status"] == "confirmed"
    every = await walk(erp)
    assert len(every) == 9
    low = [level for level in every if level["available"] < REORDER_POINTS[level["sku"]]]
    codes = {berlin["id"]: "BER", hamburg["id"]: "HAM"}
    assert sorted((level["sku"], codes[level["warehouse_id"]]) for level in low) == [
        ("P1", "BER"),
        ("P2", "BER"),
        ("P4", "BER"),
        ("P5", "BER"),
        ("P5", "HAM"),
    ]
    assert keys(await walk(erp, below_reorder_point="true")) == keys(low)
    assert keys(await walk(erp, below_reorder_point="true", sort="-sku")) == keys(low)[::-1]
    others = [level for level in every if level not in low]
    assert keys(await walk(erp, below_reorder_point="false")) == keys(others)
    in_hamburg = await walk(erp, below_reorder_point="true", warehouse_id=hamburg["id"])
    assert keys(in_hamburg) == [("P5", hamburg["id"])]


async def test_a_bad_below_reorder_point_is_refused_naming_it(erp: Erp) -> None:
    response = await erp.client.get(
        "/stock", params={"below_reorder_point": "maybe"}, headers=erp.headers("warehouse")
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "query.below_reorder_point"
    document = (await erp.client.get("/openapi.json")).json()
    parameters = {p["name"]: p for p in document["paths"]["/stock"]["get"]["parameters"]}
    assert parameters["below_reorder_point"]["schema"]["anyOf"][0] == {"type": "boolean"}
    assert "reorder point" in parameters["below_reorder_point"]["description"]
