"""The chart of accounts filtered by whether an account is open to postings, paged."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from erp.adapters.finance import Account
from tests.support.erp import Erp

pytestmark = pytest.mark.api


async def walk(erp: Erp, **params: Any) -> list[str]:
    """The codes of every listed account, two a page."""
    found: list[str] = []
    cursor = None
    while True:
        query = {"limit": 2, **params, **({"cursor": cursor} if cursor else {})}
        response = await erp.client.get(
            "/ledger/accounts", params=query, headers=erp.headers("finance")
        )
        assert response.status_code == 200, response.text
        page = response.json()
        found += [account["code"] for account in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return found


async def test_accounts_are_listed_by_whether_they_are_active(erp: Erp) -> None:
    codes = await walk(erp)
    assert len(codes) >= 5
    closed = [codes[1], codes[3], codes[4]]
    async with erp.engine.begin() as connection:
        await connection.execute(
            update(Account).where(Account.code.in_(closed)).values(active=False)
        )
    assert await walk(erp, active="true") == [c for c in codes if c not in closed]
    assert await walk(erp, active="false") == closed
    assert await walk(erp, active="false", sort="-code") == closed[::-1]
    assert await walk(erp) == codes
    response = await erp.client.get(
        "/ledger/accounts", params={"active": "maybe"}, headers=erp.headers("finance")
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "query.active"
    document = (await erp.client.get("/openapi.json")).json()
    parameters = document["paths"]["/ledger/accounts"]["get"]["parameters"]
    [active] = [p for p in parameters if p["name"] == "active"]
    assert active["schema"]["anyOf"][0] == {"type": "boolean"}
