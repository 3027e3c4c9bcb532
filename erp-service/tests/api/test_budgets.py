"""Budgets changed by two people: a `PUT` or `DELETE` with `If-Match` takes effect only on
the version the client read (412 otherwise, as every other change of a record), so a
replaced amount is never silently overwritten (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.erp import Erp

pytestmark = pytest.mark.api

MONTH = "2026-11"


async def rent_account(erp: Erp) -> str:
    created = await erp.post(
        "/ledger/accounts", {"code": "6100", "name": "Rent", "type": "expense"}, "finance"
    )
    return str(created["id"])


async def put(erp: Erp, account: str, amount: str, if_match: str | None = None) -> httpx.Response:
    headers = erp.headers("finance")
    if if_match is not None:
        headers["If-Match"] = if_match
    return await erp.client.put(
        f"/budgets/{account}/{MONTH}", json={"amount": amount}, headers=headers
    )


async def budget_of(erp: Erp, account: str) -> list[dict[str, Any]]:
    response = await erp.client.get(
        "/budgets", params={"account_id": account}, headers=erp.headers("finance")
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_a_budget_changed_meanwhile_is_not_overwritten_or_removed(erp: Erp) -> None:
    rent = await rent_account(erp)
    # An If-Match names a budget that exists: none yet, so nothing is created.
    for if_match in ('"1"', "*"):
        response = await put(erp, rent, "1500.00", if_match)
        assert response.status_code == 412, (if_match, response.text)
        assert response.json()["current_version"] == 0
    assert await budget_of(erp, rent) == []

    created = await put(erp, rent, "1500.00")
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    # Two people read version 1; the first replaces the amount, the second is told.
    first = await put(erp, rent, "1400.00", '"1"')
    assert first.status_code == 200, first.text
    assert (first.json()["amount"], first.headers["ETag"]) == ("1400.00", '"2"')
    second = await put(erp, rent, "1600.00", '"1"')
    assert second.status_code == 412, second.text
    assert second.headers["content-type"] == "application/problem+json"
    assert second.json()["current_version"] == 2
    [kept] = await budget_of(erp, rent)
    assert (kept["amount"], kept["version"]) == ("1400.00", 2)

    # `*` replaces whatever version there is; an If-Match that is no ETag is a 400.
    anyone = await put(erp, rent, "1450.00", "*")
    assert (anyone.status_code, anyone.json()["version"]) == (200, 3)
    assert (await put(erp, rent, "1.00", "three")).status_code == 400
    [kept] = await budget_of(erp, rent)
    assert (kept["amount"], kept["version"]) == ("1450.00", 3)

    headers = erp.headers("finance")
    stale = await erp.client.delete(
        f"/budgets/{rent}/{MONTH}", headers={**headers, "If-Match": '"2"'}
    )
    assert stale.status_code == 412, stale.text
    assert [b["amount"] for b in await budget_of(erp, rent)] == ["1450.00"]
    removed = await erp.client.delete(
        f"/budgets/{rent}/{MONTH}", headers={**headers, "If-Match": '"3"'}
    )
    assert removed.status_code == 204, removed.text
    assert await budget_of(erp, rent) == []
