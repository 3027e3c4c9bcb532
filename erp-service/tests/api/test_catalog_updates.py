"""Changing products and warehouses: a null for a field they always have is a 422 naming
it, never a 200 that changed nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.support.erp import Erp

pytestmark = pytest.mark.api

PRODUCT_FIELDS = ("name", "unit_price", "currency", "tax_rate", "cost", "reorder_point", "active")


async def test_a_null_for_a_field_every_product_has_is_refused_naming_it(erp: Erp) -> None:
    product = await erp.product("WIDGET-1", reorder_point=5)
    headers = erp.headers("warehouse")
    for field in PRODUCT_FIELDS:
        response = await erp.client.patch(
            f"/products/{product['id']}", json={field: None}, headers=headers
        )
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert [error["field"] for error in response.json()["errors"]] == [field]
    # With a valid change beside it, nothing of the request is applied either.
    response = await erp.client.patch(
        f"/products/{product['id']}",
        json={"unit_price": "12.00", "reorder_point": None},
        headers=headers,
    )
    assert response.status_code == 422, response.text
    current = await erp.client.get(f"/products/{product['id']}", headers=headers)
    assert current.json() == product
    assert await erp.events("erp.product.updated.v1") == []


async def test_a_warehouse_keeps_its_name_and_state_and_may_lose_its_address(erp: Erp) -> None:
    headers = erp.headers("warehouse")
    created = await erp.client.post(
        "/warehouses",
        json={
            "code": "BER",
            "name": "Berlin",
            "address": {"street": "Lagerweg 1", "city": "Berlin", "country": "DE"},
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    warehouse = created.json()
    for field in ("name", "active"):
        response = await erp.client.patch(
            f"/warehouses/{warehouse['id']}", json={field: None}, headers=headers
        )
        assert response.status_code == 422, (field, response.text)
        assert [error["field"] for error in response.json()["errors"]] == [field]
    unchanged = await erp.client.get(f"/warehouses/{warehouse['id']}", headers=headers)
    assert unchanged.json() == warehouse

    cleared = await erp.client.patch(
        f"/warehouses/{warehouse['id']}", json={"address": None}, headers=headers
    )
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["address"], cleared.json()["version"]) == (None, 2)


async def test_a_minus_zero_amount_is_answered_as_the_zero_it_is(erp: Erp) -> None:
    """ "-0" is a valid amount and rate: the answer to the write and every read say
    "0.00" and "0", never "-0.00", which reads as a refund."""
    product = await erp.product("FREEBIE-1", unit_price="-0", cost="-0.00", tax_rate="-0")
    assert (product["unit_price"], product["cost"], product["tax_rate"]) == ("0.00", "0.00", "0")
    read = await erp.client.get(f"/products/{product['id']}", headers=erp.headers("warehouse"))
    assert read.json() == product
    [created] = await erp.events("erp.product.created.v1")
    assert (created["data"]["unit_price"], created["data"]["tax_rate"]) == ("0.00", "0")
