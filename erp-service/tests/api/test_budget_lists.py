"""Budgets of a range of months (both ends included), walked page by page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.erp import Erp

pytestmark = pytest.mark.api

MONTHS = ["2026-01", "2026-02", "2026-03", "2026-11", "2026-12", "2027-01"]


async def walk(erp: Erp, **params: Any) -> list[tuple[str, str]]:
    """(month, account id) of every listed budget, two a page."""
    found: list[tuple[str, str]] = []
    cursor = None
    while True:
        query = {"limit": 2, **params, **({"cursor": cursor} if cursor else {})}
        response = await erp.client.get("/budgets", params=query, headers=erp.headers("finance"))
        assert response.status_code == 200, response.text
        page = response.json()
        found += [(budget["month"], budget["account_id"]) for budget in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return found


async def test_budgets_of_a_range_of_months_over_pages(erp: Erp) -> None:
    accounts = [
        str((await erp.post("/ledger/accounts", body, "finance"))["id"])
        for body in (
            {"code": "6100", "name": "Rent", "type": "expense"},
            {"code": "6200", "name": "Travel", "type": "expense"},
        )
    ]
    for month in MONTHS:
        for account in accounts:
            response = await erp.client.put(
                f"/budgets/{account}/{month}",
                json={"amount": "100.00"},
                headers=erp.headers("finance"),
            )
            assert response.status_code == 201, response.text
    every = await walk(erp)
    assert [month for month, _ in every] == sorted(m for m in MONTHS for _ in accounts)
    for first, last in (("2026-02", "2026-11"), ("2026-12", None), (None, "2026-01")):
        params = {k: v for k, v in (("month_from", first), ("month_to", last)) if v}
        expected = [b for b in every if (first or "0000") <= b[0] <= (last or "9999")]
        assert await walk(erp, **params) == expected, params
        assert await walk(erp, sort="-month", **params) == expected[::-1], params
    assert await walk(erp, month_from="2026-03", month_to="2026-03", account_id=accounts[1]) == [
        ("2026-03", accounts[1])
    ]
    assert await walk(erp, month_from="2026-12", month_to="2026-11") == []


@pytest.mark.parametrize(
    ("parameter", "value"),
    [("month_from", "2026-13"), ("month_to", "2026"), ("month_from", "0000-01")],
)
async def test_a_bad_month_of_a_range_is_refused_naming_it(
    erp: Erp, parameter: str, value: str
) -> None:
    response = await erp.client.get(
        "/budgets", params={parameter: value}, headers=erp.headers("finance")
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == f"query.{parameter}"
