"""Finance records changed by two requests at once, on PostgreSQL, where writers
interleave: each race is staged by holding a row both requests need, so they meet in the
order that used to go wrong, and each must end as it would had they come one after the
other (never a 500, never money created or lost)."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.erp import Erp
from tests.support.races import holding, require_postgresql, waiting

pytestmark = pytest.mark.api

MONTH = "2026-11"


async def test_a_budget_set_while_it_is_removed_is_set_again(erp: Erp) -> None:
    """A removal and a replacement of one month's budget queue behind a third writer, the
    removal first: the replacement then finds the budget gone and sets it anew, as it
    would had it come after the removal (it was a 500)."""
    require_postgresql(erp.engine)
    account = await erp.post(
        "/ledger/accounts", {"code": "6100", "name": "Rent", "type": "expense"}, "finance"
    )
    path = f"/budgets/{account['id']}/{MONTH}"
    headers = erp.headers("finance")
    created = await erp.client.put(path, json={"amount": "1500.00"}, headers=headers)
    assert created.status_code == 201, created.text

    async with holding(
        erp.engine, "SELECT 1 FROM budgets WHERE month = :month FOR UPDATE", month=MONTH
    ):
        removal = asyncio.create_task(erp.client.delete(path, headers=headers))
        await waiting(erp.engine, 1)
        replacement = asyncio.create_task(
            erp.client.put(path, json={"amount": "1400.00"}, headers=headers)
        )
        await waiting(erp.engine, 2)
    removed, replaced = await removal, await replacement
    assert removed.status_code == 204, removed.text
    assert replaced.status_code == 201, replaced.text
    assert replaced.json()["amount"] == "1400.00"
    listed = await erp.client.get("/budgets", params={"month": MONTH}, headers=headers)
    assert [(b["account_id"], b["amount"]) for b in listed.json()["items"]] == [
        (account["id"], "1400.00")
    ]
