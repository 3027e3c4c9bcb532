"""A 409 that a change answers is listed in the OpenAPI document of that route, so a client
generated from the document expects it: changing a final lead, and changing the contacts
of an archived customer."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api


async def documented(crm: Crm, path: str, method: str) -> set[str]:
    document: dict[str, Any] = (await crm.client.get("/openapi.json")).json()
    return set(document["paths"][path][method]["responses"])


async def test_changing_a_disqualified_lead_is_a_documented_409(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    lead = await crm.client.post("/leads", json={"name": "Jana Novak"}, headers=headers)
    assert lead.status_code == 201, lead.text
    url = f"/leads/{lead.json()['id']}"
    disqualified = await crm.client.post(
        f"{url}/disqualify", json={"reason": "No budget"}, headers=headers
    )
    assert disqualified.status_code == 200, disqualified.text

    changed = await crm.client.patch(url, json={"phone": "+49 30 1"}, headers=headers)
    assert changed.status_code == 409, changed.text
    assert "409" in await documented(crm, "/leads/{lead_id}", "patch")


async def test_changing_contacts_of_an_archived_customer_is_a_documented_409(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    customer = await crm.client.post(
        "/customers", json={"kind": "company", "name": "Acme GmbH"}, headers=headers
    )
    assert customer.status_code == 201, customer.text
    url = f"/customers/{customer.json()['id']}"
    contact = await crm.client.post(f"{url}/contacts", json={"name": "Jana"}, headers=headers)
    assert contact.status_code == 201, contact.text
    archived = await crm.client.post(f"{url}/archive", headers=headers)
    assert archived.status_code == 200, archived.text

    contact_url = f"{url}/contacts/{contact.json()['id']}"
    answers = [
        (await crm.client.post(f"{url}/contacts", json={"name": "Omar"}, headers=headers)),
        (await crm.client.patch(contact_url, json={"title": "CFO"}, headers=headers)),
        (await crm.client.delete(contact_url, headers=headers)),
    ]
    assert [a.status_code for a in answers] == [409, 409, 409], [a.text for a in answers]
    item = "/customers/{customer_id}/contacts/{contact_id}"
    assert "409" in await documented(crm, "/customers/{customer_id}/contacts", "post")
    assert "409" in await documented(crm, item, "patch")
    assert "409" in await documented(crm, item, "delete")
