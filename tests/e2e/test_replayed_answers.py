"""A retry with the same Idempotency-Key through the gateway gets the first answer again,
as the client saw it the first time: a replayed problem still names the gateway's path as
its `instance`, not the service's."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from tests.support.journeys import Journeys

pytestmark = pytest.mark.e2e


async def test_a_replayed_problem_names_the_path_the_client_asked_for(
    journeys: Journeys,
) -> None:
    body = {"invoice_id": str(uuid.uuid4()), "amount": "10.00", "method": "bank_transfer"}
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = await journeys.gw.request(
        "finance", "POST", "/api/erp/payments", json=body, headers=key
    )
    # The first answer is stored just after it is sent: until then a retry is told to wait.
    deadline = time.monotonic() + 10
    while True:
        again = await journeys.gw.request(
            "finance", "POST", "/api/erp/payments", json=body, headers=key
        )
        if again.status_code != 409 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)

    assert first.status_code in (404, 422), first.text
    assert first.json()["instance"] == "/api/erp/payments"
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.status_code == first.status_code
    assert again.json() == first.json()
