"""Archiving a customer publishes its full state, as every customer event does, so a
replica that first hears of the customer from its archive still knows who it is; on
SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from shared_schemas.events.crm.customers import CustomerArchived
from tests.support.crm import Crm

pytestmark = pytest.mark.api


async def test_the_archive_event_carries_the_customers_full_state(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales_manager")
    body = {
        "kind": "company",
        "name": "Acme GmbH",
        "email": "buying@acme.example",
        "phone": "+49 30 123456",
        "billing_address": {"street": "Hauptstraße 5", "city": "Berlin", "country": "DE"},
        "shipping_address": {"street": "Lagerweg 1", "city": "Potsdam", "country": "DE"},
        "industry": "Manufacturing",
        "owner_id": str(sales_rep),
        "payment_terms_days": 14,
        "tags": ["key-account"],
    }
    created = await crm.client.post("/customers", json=body, headers=headers)
    assert created.status_code == 201, created.text
    url = f"/customers/{created.json()['id']}"
    changed = await crm.client.patch(url, json={"credit_limit": "25000.00"}, headers=headers)
    assert changed.status_code == 200, changed.text
    archived = await crm.client.post(f"{url}/archive", headers=headers)
    assert archived.status_code == 200, archived.text

    [updated] = await crm.events("crm.customer.updated.v1")
    [event] = await crm.events("crm.customer.archived.v1")
    state = {key: value for key, value in updated["data"].items() if key != "changes"}
    assert event["data"] == {**state, "version": 3, "archived": True}
    assert event["data"]["credit_limit"] == "25000.00"
    assert event["data"]["shipping_address"]["city"] == "Potsdam"
    parsed = CustomerArchived.model_validate(event["data"])
    assert parsed.carries_state
    assert archived.headers["etag"] == '"3"'
