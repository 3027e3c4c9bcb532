"""Text with a NUL character is refused by name before it reaches the database, on
SQLite (which could keep it) as on PostgreSQL (which cannot): nothing is written."""

from __future__ import annotations

import pytest

from tests.support.erp import Erp

pytestmark = pytest.mark.api


async def test_a_nul_in_a_body_or_a_query_is_a_422_naming_it(erp: Erp) -> None:
    headers = erp.headers("warehouse")
    body = {"sku": "NUL-1", "name": "Wid\u0000get", "unit_price": "10.00", "cost": "5.00"}
    response = await erp.client.post("/products", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"field": "name", "message": "text may not contain a NUL character"}
    ]
    assert (await erp.client.get("/products", headers=headers)).json()["items"] == []
    searched = await erp.client.get("/products", params={"sku": "A\x00"}, headers=headers)
    assert searched.status_code == 422, searched.text
    assert [e["field"] for e in searched.json()["errors"]] == ["query.sku"]
