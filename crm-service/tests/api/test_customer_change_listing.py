"""Customers sorted by their last change, on SQLite and PostgreSQL, across pages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api


async def walk(crm: Crm, headers: dict[str, str], **params: str) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(20):
        query = {"limit": "2", **params, **({"cursor": cursor} if cursor else {})}
        response = await crm.client.get("/customers", params=query, headers=headers)
        assert response.status_code == 200, response.text
        seen += [c["id"] for c in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("sort", ["updated_at", "-updated_at"])
async def test_customers_sort_by_their_last_change_across_pages(
    crm: Crm, sales_rep: uuid.UUID, sort: str
) -> None:
    rep = crm.headers("sales", sales_rep)
    created: list[dict[str, Any]] = []
    for number in range(1, 7):
        body = {"kind": "company", "name": f"Company {number}"}
        response = await crm.client.post("/customers", json=body, headers=rep)
        assert response.status_code == 201, response.text
        created.append(response.json())
    for customer in (created[4], created[1]):
        changed = await crm.client.patch(
            f"/customers/{customer['id']}", json={"industry": "Retail"}, headers=rep
        )
        assert changed.status_code == 200, changed.text
    current = (await crm.client.get("/customers", params={"limit": "200"}, headers=rep)).json()
    expected = [
        c["id"]
        for c in sorted(
            current["items"],
            key=lambda c: (datetime.fromisoformat(c["updated_at"]), uuid.UUID(c["id"])),
            reverse=sort.startswith("-"),
        )
    ]
    assert await walk(crm, rep, sort=sort) == expected
    if sort.startswith("-"):
        assert expected[:2] == [created[1]["id"], created[4]["id"]]
    document = (await crm.client.get("/openapi.json")).json()
    [described] = [
        p for p in document["paths"]["/customers"]["get"]["parameters"] if p["name"] == "sort"
    ]
    assert "`updated_at`" in described["description"]
