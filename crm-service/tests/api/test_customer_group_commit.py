"""Concurrent creations share a transaction (group commit) and each still gets exactly
its own outcome: its own row, event, actor and correlation id, or its own refusal."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api


async def test_concurrent_creations_each_get_their_row_event_actor_and_request_id(
    crm: Crm,
) -> None:
    reps = [await crm.hire("sales") for _ in range(4)]

    async def create(n: int) -> httpx.Response:
        rep = reps[n % len(reps)]
        return await crm.client.post(
            "/customers",
            json={"kind": "company", "name": f"Firm {n}", "email": f"firm{n}@x.example"},
            headers={**crm.headers("sales", rep), "X-Request-ID": f"req-{n}"},
        )

    responses = await asyncio.gather(*(create(n) for n in range(24)))
    assert [r.status_code for r in responses] == [201] * 24
    created = {r.json()["name"]: r.json() for r in responses}
    events = {e["subject"]: e for e in await crm.events("crm.customer.created.v1")}
    assert len(events) == 24
    for n in range(24):
        customer = created[f"Firm {n}"]
        rep = reps[n % len(reps)]
        assert customer["owner_id"] == str(rep)
        event = events[customer["id"]]
        assert event["correlationid"] == f"req-{n}"
        assert event["actor"] == f"user-sales-{rep}"
        fetched = await crm.client.get(f"/customers/{customer['id']}", headers=crm.headers("sales"))
        assert fetched.json() == customer


async def test_duplicates_within_one_batch_are_refused_against_each_other(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    body = {"kind": "company", "name": "Twin Industries", "email": "twin@x.example"}
    responses = await asyncio.gather(
        *(crm.client.post("/customers", json=body, headers=headers) for _ in range(5))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409, 409]
    [winner] = [r.json() for r in responses if r.status_code == 201]
    for refused in (r.json() for r in responses if r.status_code == 409):
        assert refused["existing_id"] == winner["id"]
    assert len(await crm.events("crm.customer.created.v1")) == 1


async def test_one_refused_request_leaves_the_others_of_its_batch_alone(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    manager = await crm.hire("sales_manager")
    support = await crm.hire("support")
    good = {"kind": "person", "name": "Good"}
    bad_owner = {"kind": "person", "name": "Bad owner", "owner_id": str(support)}
    bad_field = {"kind": "person", "name": "Bad field", "custom_fields": {"nope": 1}}
    responses = await asyncio.gather(
        crm.client.post("/customers", json=good, headers=crm.headers("sales", sales_rep)),
        crm.client.post(
            "/customers", json=bad_owner, headers=crm.headers("sales_manager", manager)
        ),
        crm.client.post("/customers", json=bad_field, headers=crm.headers("sales", sales_rep)),
        crm.client.post(
            "/customers",
            json={**good, "name": "Also good"},
            headers=crm.headers("sales", sales_rep),
        ),
    )
    assert [r.status_code for r in responses] == [201, 422, 422, 201]
    assert responses[1].json()["errors"][0]["field"] == "owner_id"
    assert responses[2].json()["errors"][0]["field"] == "custom_fields.nope"
    names = {e["data"]["name"] for e in await crm.events("crm.customer.created.v1")}
    assert names == {"Good", "Also good"}
