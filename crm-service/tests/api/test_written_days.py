"""Days and times in CRM request bodies are taken as written (YYYY-MM-DD, ISO 8601 with a
zone), never as numbers: lax parsing read `0` as 1970-01-01 and 1700000000 as a time in
2023, dating a deal, a quote or an activity wrongly without a word."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api


def assert_refused(answer: Any, field: str) -> None:
    assert answer.status_code == 422, answer.text
    assert [error["field"] for error in answer.json()["errors"]] == [field], answer.text


@pytest.mark.parametrize("written", [0, 1700000000, "1700000000", "2026-12-15T00:00:00Z"])
async def test_a_day_is_written_yyyy_mm_dd(crm: Crm, sales_rep: uuid.UUID, written: Any) -> None:
    headers = crm.headers("sales", sales_rep)
    customer = await crm.client.post(
        "/customers", json={"kind": "company", "name": "Acme GmbH"}, headers=headers
    )
    assert customer.status_code == 201, customer.text
    customer_id = customer.json()["id"]
    deal = {"name": "Desks", "customer_id": customer_id, "amount": "100.00"}

    refused = await crm.client.post(
        "/opportunities", json={**deal, "expected_close_date": written}, headers=headers
    )
    assert_refused(refused, "expected_close_date")
    lines = [{"sku": "DESK-01", "quantity": 1, "unit_price": "10.00", "tax_rate": "0.19"}]
    quote = await crm.client.post(
        "/quotes",
        json={"customer_id": customer_id, "lines": lines, "valid_until": written},
        headers=headers,
    )
    assert_refused(quote, "valid_until")

    taken = await crm.client.post(
        "/opportunities", json={**deal, "expected_close_date": "2026-12-15"}, headers=headers
    )
    assert taken.status_code == 201, taken.text
    assert taken.json()["expected_close_date"] == "2026-12-15"
    listed = await crm.client.get("/opportunities", headers=headers)
    assert [o["name"] for o in listed.json()["items"]] == ["Desks"]


@pytest.mark.parametrize("written", [1700000000, "0.5", "2026-11-30T09:30:00"])
async def test_an_activity_time_is_written_with_its_zone(
    crm: Crm, sales_rep: uuid.UUID, written: Any
) -> None:
    headers = crm.headers("sales", sales_rep)
    customer = await crm.client.post(
        "/customers", json={"kind": "company", "name": "Acme GmbH"}, headers=headers
    )
    activity = {"kind": "call", "subject": "Intro", "customer_id": customer.json()["id"]}
    refused = await crm.client.post(
        "/activities", json={**activity, "occurred_at": written}, headers=headers
    )
    assert_refused(refused, "occurred_at")
    taken = await crm.client.post(
        "/activities",
        json={**activity, "occurred_at": "2026-11-30T09:30:00+01:00"},
        headers=headers,
    )
    assert taken.status_code == 201, taken.text
    assert taken.json()["occurred_at"] == "2026-11-30T08:30:00Z"
