"""The journal is read in posting order: entries of one date are listed by number, on
every page, in both directions."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.support.erp import Erp

pytestmark = pytest.mark.api


async def listed(erp: Erp, **params: Any) -> list[str]:
    """Entry numbers, page by page (three at a time)."""
    numbers: list[str] = []
    cursor = None
    while True:
        query = {"limit": 3, **params, **({"cursor": cursor} if cursor else {})}
        response = await erp.client.get(
            "/ledger/journal-entries", params=query, headers=erp.headers("finance")
        )
        assert response.status_code == 200, response.text
        numbers += [entry["number"] for entry in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return numbers


async def test_entries_of_one_date_are_listed_by_number(erp: Erp) -> None:
    chart = (
        await erp.client.get("/ledger/accounts?limit=200", headers=erp.headers("finance"))
    ).json()["items"]
    by_key = {account["system_key"]: account["id"] for account in chart}
    cash, equity = by_key["cash"], by_key["equity"]
    posted = [
        await erp.post(
            "/ledger/journal-entries",
            {
                "entry_date": day,
                "reference": f"R-{n}",
                "lines": [
                    {"account_id": cash, "debit": "1.00"},
                    {"account_id": equity, "credit": "1.00"},
                ],
            },
            "finance",
        )
        for n, day in enumerate(["2026-11-30"] * 8 + ["2026-11-01"] * 2)
    ]
    numbers = [entry["number"] for entry in posted]
    late, early = numbers[:8], numbers[8:]

    assert await listed(erp) == late[::-1] + early[::-1]  # the default: newest date first
    assert await listed(erp, sort="-entry_date") == late[::-1] + early[::-1]
    assert await listed(erp, sort="entry_date") == early + late
    assert await listed(erp, sort="created_at") == numbers
    assert await listed(erp, sort="-created_at") == numbers[::-1]
    assert await listed(erp, date_from="2026-11-30", sort="entry_date") == late

    # A cursor naming an id where the entry number belongs is not one this list issued.
    forged = json.dumps(["-entry_date", "2026-11-30", posted[0]["id"]]).encode()
    response = await erp.client.get(
        "/ledger/journal-entries",
        params={"cursor": base64.urlsafe_b64encode(forged).decode().rstrip("=")},
        headers=erp.headers("finance"),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "query.cursor"
