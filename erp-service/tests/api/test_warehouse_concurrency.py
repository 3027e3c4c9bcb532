"""Warehouses under concurrency: however many are created or made default at once, each
request succeeds and exactly one warehouse ends as the default (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.erp import Erp

pytestmark = pytest.mark.api


async def defaults(erp: Erp) -> list[str]:
    listed = await erp.client.get(
        "/warehouses", params={"is_default": "true"}, headers=erp.headers("warehouse")
    )
    assert listed.status_code == 200, listed.text
    return [warehouse["code"] for warehouse in listed.json()["items"]]


async def test_warehouses_created_at_once_on_a_fresh_database_leave_exactly_one_default(
    erp: Erp,
) -> None:
    headers = erp.headers("warehouse")

    async def create(index: int) -> Any:
        # Some ask to be the default, the rest would become it only as the first one.
        body = {"code": f"W{index:02d}", "name": f"Warehouse {index}", "is_default": index % 3 == 0}
        return await erp.client.post("/warehouses", json=body, headers=headers)

    responses = await asyncio.gather(*(create(index) for index in range(12)))
    assert [response.status_code for response in responses] == [201] * 12, [
        response.text for response in responses if response.status_code != 201
    ]
    assert len(await defaults(erp)) == 1
    listed = await erp.client.get("/warehouses", params={"limit": 50}, headers=headers)
    assert len(listed.json()["items"]) == 12


async def test_warehouses_made_default_at_once_leave_exactly_one_default(erp: Erp) -> None:
    warehouses = [await erp.warehouse(f"W{index:02d}") for index in range(8)]
    assert await defaults(erp) == ["W00"]
    headers = erp.headers("warehouse")

    async def make_default(warehouse: dict[str, Any]) -> Any:
        return await erp.client.post(f"/warehouses/{warehouse['id']}/make-default", headers=headers)

    responses = await asyncio.gather(*(make_default(warehouse) for warehouse in warehouses))
    assert [response.status_code for response in responses] == [200] * 8, [
        response.text for response in responses if response.status_code != 200
    ]
    assert all(response.json()["is_default"] for response in responses)
    assert len(await defaults(erp)) == 1
