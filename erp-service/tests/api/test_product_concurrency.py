"""A sku names one product whatever its case, also under concurrency: one sku created by
several requests at once (in any case) is one product; the others get a 409 problem,
never a 500 (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.support.erp import Erp

pytestmark = pytest.mark.api


async def test_one_sku_posted_eight_times_at_once_is_one_product_and_seven_conflicts(
    erp: Erp,
) -> None:
    headers = erp.headers("warehouse")
    body = {
        "sku": "WIDGET-1",
        "name": "Widget",
        "unit_price": "10.00",
        "tax_rate": "19",
        "cost": "6.00",
    }
    responses = await asyncio.gather(
        *(erp.client.post("/products", json=body, headers=headers) for _ in range(8))
    )
    assert Counter(response.status_code for response in responses) == {201: 1, 409: 7}, [
        response.text for response in responses
    ]
    for refused in (response for response in responses if response.status_code == 409):
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert problem["status"] == 409
        # `duplicate` when the sku was seen taken, `conflict` when the database refused the
        # second insert of two that each saw it free.
        assert problem["type"].rsplit("/", 1)[-1] in {"duplicate", "conflict"}, problem
        assert problem["detail"]
    [created] = [response.json() for response in responses if response.status_code == 201]
    listed = await erp.client.get("/products", params={"sku": "WIDGET-1"}, headers=headers)
    assert [product["id"] for product in listed.json()["items"]] == [created["id"]]
    [event] = await erp.events("erp.product.created.v1")
    assert event["subject"] == created["id"]


def product_body(sku: str) -> dict[str, str]:
    return {"sku": sku, "name": "Widget", "unit_price": "10.00", "tax_rate": "19", "cost": "6.00"}


async def test_a_sku_differing_only_in_case_is_the_same_sku(erp: Erp) -> None:
    headers = erp.headers("warehouse")
    first = await erp.client.post("/products", json=product_body("WIDGET-1"), headers=headers)
    assert first.status_code == 201, first.text
    for sku in ("widget-1", "Widget-1"):
        again = await erp.client.post("/products", json=product_body(sku), headers=headers)
        assert again.status_code == 409, again.text
        problem = again.json()
        assert problem["type"].endswith("/duplicate")
        assert problem["existing_id"] == first.json()["id"]
        assert "'WIDGET-1'" in problem["detail"], problem
    listed = await erp.client.get("/products", params={"limit": 200}, headers=headers)
    assert [product["sku"] for product in listed.json()["items"]] == ["WIDGET-1"]
    assert len(await erp.events("erp.product.created.v1")) == 1
    # Lookups stay exact: a line or a movement naming `widget-1` is not silently WIDGET-1.
    await erp.warehouse("BER")
    movement = {"kind": "receipt", "sku": "widget-1", "quantity": 1}
    movement["warehouse_id"] = await erp.warehouse_id(None)
    refused = await erp.client.post("/stock/movements", json=movement, headers=headers)
    assert refused.status_code == 422, refused.text


async def test_one_sku_posted_at_once_in_different_cases_is_one_product(erp: Erp) -> None:
    headers = erp.headers("warehouse")
    skus = ["GADGET-7", "gadget-7", "Gadget-7", "gADGET-7"] * 2
    responses = await asyncio.gather(
        *(erp.client.post("/products", json=product_body(sku), headers=headers) for sku in skus)
    )
    assert Counter(response.status_code for response in responses) == {201: 1, 409: 7}, [
        response.text for response in responses
    ]
    listed = await erp.client.get("/products", params={"limit": 200}, headers=headers)
    assert len(listed.json()["items"]) == 1
    assert len(await erp.events("erp.product.created.v1")) == 1
