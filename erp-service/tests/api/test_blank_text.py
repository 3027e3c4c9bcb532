"""Names and shipment carriers are stored without the white space around them, and text
that is nothing but white space is refused with a 422 naming the field: nothing is
created or changed (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.erp import Erp

pytestmark = pytest.mark.api

BLANKS = ("", "   ", "\u00a0\u2003")  # the last: a no-break and an em space


def assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def listed(erp: Erp, path: str, role: str) -> list[dict[str, Any]]:
    response = await erp.client.get(path, headers=erp.headers(role))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_blank_names_create_nothing_and_padded_ones_are_trimmed(erp: Erp) -> None:
    product = {"sku": "CHAIR-1", "unit_price": "10.00", "tax_rate": "19", "cost": "6.00"}
    employee = {"email": "jana@example.com", "role": "sales"}
    for blank in BLANKS:
        refused = await erp.client.post(
            "/products", json=product | {"name": blank}, headers=erp.headers("warehouse")
        )
        assert_refused(refused, "name")
        refused = await erp.client.post(
            "/employees", json=employee | {"name": blank}, headers=erp.headers("hr")
        )
        assert_refused(refused, "name")
        refused = await erp.client.post(
            "/departments", json={"name": blank}, headers=erp.headers("hr")
        )
        assert_refused(refused, "name")
    assert await listed(erp, "/products", "warehouse") == []
    assert await listed(erp, "/employees", "hr") == []
    assert await listed(erp, "/departments", "hr") == []

    chair = await erp.post("/products", product | {"name": " Chair\t"}, role="warehouse")
    jana = await erp.post("/employees", employee | {"name": "\u00a0Jana Novak "}, role="hr")
    sales = await erp.post("/departments", {"name": "Sales  "}, role="hr")
    assert (chair["name"], jana["name"], sales["name"]) == ("Chair", "Jana Novak", "Sales")
    [created] = await erp.events("erp.employee.hired.v1")
    assert created["data"]["name"] == "Jana Novak"


async def test_renaming_to_blanks_changes_nothing(erp: Erp) -> None:
    product = await erp.product("CHAIR-1")
    headers = erp.headers("warehouse")

    response = await erp.client.patch(
        f"/products/{product['id']}", json={"name": "  "}, headers=headers
    )

    assert_refused(response, "name")
    unchanged = await erp.client.get(f"/products/{product['id']}", headers=headers)
    assert unchanged.json() == product
    assert await erp.events("erp.product.updated.v1") == []
