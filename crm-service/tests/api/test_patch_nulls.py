"""Null in a PATCH body (SQLite and PostgreSQL): it removes a field the record may be
without, and for a field the record always has it is a 422 naming the field that applies
nothing of the request. It used to be taken for "leave as is" and answered 200, so a
client clearing a name or a deal's amount believed it done."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api


async def created(crm: Crm, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = await crm.client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def assert_nulls_refused(
    crm: Crm,
    url: str,
    headers: dict[str, str],
    fields: tuple[str, ...],
    beside: dict[str, Any],
) -> None:
    """Each field given null, alone and beside a valid change (`beside`), is a 422 naming
    that field; the record and the outbox stay as they were."""
    record = await crm.client.get(url, headers=headers)
    assert record.status_code == 200, record.text
    events = await crm.events()
    for field in fields:
        for body in ({field: None}, {**beside, field: None}):
            response = await crm.client.patch(url, json=body, headers=headers)
            assert response.status_code == 422, (body, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["errors"] == [{"field": field, "message": "may not be null"}]
    after = await crm.client.get(url, headers=headers)
    assert (after.json(), after.headers["etag"]) == (record.json(), record.headers["etag"])
    assert await crm.events() == events


async def test_a_customer_keeps_its_name_kind_terms_and_custom_fields(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    customer = await created(
        crm,
        "/customers",
        {"kind": "company", "name": "Acme GmbH", "email": "buying@acme.example"},
        crm.headers("sales", sales_rep),
    )
    url = f"/customers/{customer['id']}"
    admin = crm.headers("admin")
    await assert_nulls_refused(
        crm,
        url,
        admin,
        ("name", "kind", "payment_terms_days", "custom_fields"),
        {"phone": "+49 30 1234567"},
    )
    cleared = await crm.client.patch(url, json={"email": None, "industry": None}, headers=admin)
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["email"], cleared.json()["version"]) == (None, 2)
    [event] = await crm.events("crm.customer.updated.v1")
    assert [change["field"] for change in event["data"]["changes"]] == ["email"]


async def test_a_contact_keeps_its_name_and_whether_it_is_primary(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    customer = await created(crm, "/customers", {"kind": "company", "name": "Acme"}, headers)
    contacts = f"/customers/{customer['id']}/contacts"
    jana = await created(
        crm, contacts, {"name": "Jana", "is_primary": True, "title": "CFO"}, headers
    )
    url = f"{contacts}/{jana['id']}"
    await assert_nulls_refused(crm, url, headers, ("name", "is_primary"), {"phone": "+49 30 1"})
    cleared = await crm.client.patch(url, json={"title": None}, headers=headers)
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["title"], cleared.json()["is_primary"]) == (None, True)


async def test_an_opportunity_keeps_its_name_customer_amount_currency_and_probability(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    customer = await created(crm, "/customers", {"kind": "company", "name": "Acme"}, headers)
    deal = await created(
        crm,
        "/opportunities",
        {
            "name": "Acme: racking",
            "customer_id": customer["id"],
            "amount": "12000.00",
            "expected_close_date": "2026-12-15",
        },
        headers,
    )
    url = f"/opportunities/{deal['id']}"
    await assert_nulls_refused(
        crm,
        url,
        headers,
        ("name", "customer_id", "amount", "currency", "probability"),
        {"amount": "15000.00"},
    )
    cleared = await crm.client.patch(url, json={"expected_close_date": None}, headers=headers)
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["expected_close_date"], cleared.json()["amount"]) == (None, "12000.00")


async def test_a_lead_keeps_its_name(crm: Crm, sales_rep: uuid.UUID) -> None:
    headers = crm.headers("sales", sales_rep)
    lead = await created(
        crm, "/leads", {"name": "Jana Novak", "company_name": "Novak Bau GmbH"}, headers
    )
    url = f"/leads/{lead['id']}"
    await assert_nulls_refused(crm, url, headers, ("name",), {"phone": "+49 89 5550101"})
    cleared = await crm.client.patch(url, json={"company_name": None}, headers=headers)
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["company_name"], cleared.json()["name"]) == (None, "Jana Novak")


async def test_an_inquiry_keeps_its_subject_and_priority(crm: Crm, sales_rep: uuid.UUID) -> None:
    agent = await crm.hire("support", name="Sue Support")
    headers = crm.headers("support", agent)
    customer = await created(
        crm, "/customers", {"kind": "company", "name": "Acme"}, crm.headers("sales", sales_rep)
    )
    inquiry = await created(
        crm,
        "/inquiries",
        {
            "channel": "email",
            "subject": "Delivery arrived damaged",
            "body": "Two of five units cracked.",
            "customer_id": customer["id"],
        },
        headers,
    )
    url = f"/inquiries/{inquiry['id']}"
    await assert_nulls_refused(crm, url, headers, ("subject", "priority"), {"body": "Three."})
    cleared = await crm.client.patch(url, json={"body": None}, headers=headers)
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["body"], cleared.json()["subject"]) == (None, inquiry["subject"])


async def test_an_activity_keeps_its_kind_subject_and_time(crm: Crm, sales_rep: uuid.UUID) -> None:
    headers = crm.headers("sales", sales_rep)
    customer = await created(crm, "/customers", {"kind": "company", "name": "Acme"}, headers)
    activity = await created(
        crm,
        "/activities",
        {
            "kind": "call",
            "subject": "Follow-up",
            "body": "They want a quote.",
            "customer_id": customer["id"],
        },
        headers,
    )
    url = f"/activities/{activity['id']}"
    await assert_nulls_refused(
        crm, url, headers, ("kind", "subject", "occurred_at"), {"body": "A quote by Friday."}
    )
    cleared = await crm.client.patch(url, json={"body": None}, headers=headers)
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["body"], cleared.json()["kind"]) == (None, "call")


async def test_a_draft_quote_keeps_its_customer_validity_and_lines(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    await crm.product("CHAIR", "19.99", "19")
    headers = crm.headers("sales", sales_rep)
    customer = await created(crm, "/customers", {"kind": "company", "name": "Acme"}, headers)
    quote = await created(
        crm,
        "/quotes",
        {
            "customer_id": customer["id"],
            "notes": "Chairs",
            "lines": [{"sku": "CHAIR", "quantity": 1}],
        },
        headers,
    )
    url = f"/quotes/{quote['id']}"
    await assert_nulls_refused(
        crm, url, headers, ("customer_id", "valid_until", "lines"), {"notes": "Two chairs"}
    )
    cleared = await crm.client.patch(url, json={"notes": None}, headers=headers)
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["notes"], cleared.json()["lines"]) == (None, quote["lines"])
