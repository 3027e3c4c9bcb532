"""Products under concurrency: one sku created by several requests at once is one product;
the others get a 409 problem, never a 500 (SQLite and PostgreSQL)."""

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
