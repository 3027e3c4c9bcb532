"""A day is written `YYYY-MM-DD`, in a query and in a request body alike: a number (`0`,
read as seconds since 1970, would be 1970-01-01) or a time is a 422 naming the field,
never a report or a record dated some other day (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.erp import Erp

pytestmark = pytest.mark.api

NOT_DAYS: tuple[Any, ...] = ("0", "86400", "2026-11-30T00:00:00", "20261130")
NOT_DAYS_IN_JSON: tuple[Any, ...] = (0, 86400, "0", "2026-11-30T00:00:00", "20261130")


def assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_reports_and_journal_lists_take_days_only(erp: Erp) -> None:
    headers = erp.headers("finance")
    for value in NOT_DAYS:
        for report in ("trial-balance", "balance-sheet", "ar-aging"):
            response = await erp.client.get(
                f"/reports/{report}", params={"as_of": value}, headers=headers
            )
            assert_refused(response, "query.as_of")
        response = await erp.client.get(
            "/reports/profit-and-loss",
            params={"date_from": value, "date_to": "2026-11-30"},
            headers=headers,
        )
        assert_refused(response, "query.date_from")
        response = await erp.client.get(
            "/ledger/journal-entries", params={"date_to": value}, headers=headers
        )
        assert_refused(response, "query.date_to")
    # A day is still a day.
    aging = await erp.client.get(
        "/reports/ar-aging", params={"as_of": "2026-11-30"}, headers=headers
    )
    assert aging.status_code == 200, aging.text
    assert aging.json()["as_of"] == "2026-11-30"


async def test_a_manual_entry_or_an_employee_dated_by_anything_but_a_day_is_not_recorded(
    erp: Erp,
) -> None:
    accounts = await erp.client.get("/ledger/accounts", headers=erp.headers("finance"))
    salaries, bank = (
        next(a["id"] for a in accounts.json()["items"] if a["system_key"] == key)
        for key in ("salaries_expense", "bank")
    )
    entry = {
        "reference": "LEASE-1",
        "lines": [
            {"account_id": salaries, "debit": "100.00"},
            {"account_id": bank, "credit": "100.00"},
        ],
    }
    hire = {"name": "Ada", "email": "ada@example.com", "role": "sales"}
    for value in NOT_DAYS_IN_JSON:
        response = await erp.client.post(
            "/ledger/journal-entries",
            json=entry | {"entry_date": value},
            headers=erp.headers("finance"),
        )
        assert_refused(response, "entry_date")
        response = await erp.client.post(
            "/employees", json=hire | {"hired_on": value}, headers=erp.headers("hr")
        )
        assert_refused(response, "hired_on")
    journal = await erp.client.get("/ledger/journal-entries", headers=erp.headers("finance"))
    assert journal.json()["items"] == []
    employees = await erp.client.get("/employees", headers=erp.headers("hr"))
    assert employees.json()["items"] == []
