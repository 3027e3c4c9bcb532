"""Customers through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from alembic import command

from crm.config import Settings
from tests.support.crm import Crm
from tests.support.harness import alembic_config, execute, upgrade

pytestmark = pytest.mark.api

ADDRESS = {"street": "Hauptstraße 5", "postal_code": "10115", "city": "Berlin", "country": "DE"}


def acme(**overrides: object) -> dict[str, object]:
    return {
        "kind": "company",
        "name": "Acme GmbH",
        "email": "buying@acme.example",
        "billing_address": ADDRESS,
        **overrides,
    }


async def test_sales_creates_a_customer_they_own_and_it_is_published(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    response = await crm.client.post(
        "/customers", json=acme(), headers=crm.headers("sales", sales_rep)
    )
    assert response.status_code == 201, response.text
    customer = response.json()
    assert customer["owner_id"] == str(sales_rep)
    assert customer["payment_terms_days"] == 30
    assert customer["status"] == "active"
    assert customer["currency"] == "EUR"
    assert customer["open_balance"] == "0.00"
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/customers/{customer['id']}"
    [event] = await crm.events("crm.customer.created.v1")
    assert event["subject"] == customer["id"]
    assert event["actor"] == f"user-sales-{sales_rep}"
    assert event["data"]["billing_address"]["city"] == "Berlin"
    assert event["data"]["owner_id"] == str(sales_rep)
    assert event["data"]["version"] == 1
    fetched = await crm.client.get(f"/customers/{customer['id']}", headers=crm.headers("support"))
    # Support reads the customer but not ERP invoices, so not the balances either.
    hidden = ("open_balance", "lifetime_value")
    assert fetched.json() == {k: v for k, v in customer.items() if k not in hidden}


async def test_an_address_keeps_every_field_and_the_same_address_again_changes_nothing(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    created = await crm.client.post("/customers", json=acme(), headers=headers)
    customer = created.json()
    full = {**ADDRESS, "street2": None, "region": None}
    assert customer["billing_address"] == full
    [event] = await crm.events("crm.customer.created.v1")
    assert event["data"]["billing_address"] == full
    # Sent again, spelled out or with the optional lines left out, it is the same address.
    for same in (full, ADDRESS):
        again = await crm.client.patch(
            f"/customers/{customer['id']}", json={"billing_address": same}, headers=headers
        )
        assert again.status_code == 200, again.text
        assert again.json()["version"] == 1
    assert await crm.events("crm.customer.updated.v1") == []
    moved = await crm.client.patch(
        f"/customers/{customer['id']}",
        json={"billing_address": {**ADDRESS, "street2": "Hinterhaus"}},
        headers=headers,
    )
    assert moved.json()["billing_address"] == {**full, "street2": "Hinterhaus"}
    [update] = await crm.events("crm.customer.updated.v1")
    assert [change["field"] for change in update["data"]["changes"]] == ["billing_address"]


async def test_a_creator_who_may_not_own_customers_leaves_them_unassigned(crm: Crm) -> None:
    admin = await crm.hire("admin")
    response = await crm.client.post("/customers", json=acme(), headers=crm.headers("admin", admin))
    assert response.status_code == 201, response.text
    assert response.json()["owner_id"] is None


@pytest.mark.parametrize(
    ("second", "field"),
    [
        ({"name": "Another name", "email": "BUYING@acme.example"}, "email"),
        ({"name": "ACME", "email": "other@acme.example"}, "name"),
        ({"name": "acmé gmbh.", "email": None}, "name"),
        # A legal form written with dots is that legal form.
        ({"name": "ACME S.A.", "email": None}, "name"),
        ({"name": "Acme B.V.", "email": None}, "name"),
        ({"name": "Acme, L.L.C.", "email": None}, "name"),
    ],
)
async def test_duplicates_are_refused_with_the_existing_id_unless_forced(
    crm: Crm, sales_rep: uuid.UUID, second: dict[str, object], field: str
) -> None:
    headers = crm.headers("sales", sales_rep)
    first = (await crm.client.post("/customers", json=acme(), headers=headers)).json()
    duplicate = await crm.client.post("/customers", json=acme(**second), headers=headers)
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == "application/problem+json"
    assert duplicate.json()["existing_id"] == first["id"]
    assert duplicate.json()["field"] == field
    forced = await crm.client.post("/customers?force=true", json=acme(**second), headers=headers)
    assert forced.status_code == 201
    assert len(await crm.events("crm.customer.created.v1")) == 2


async def downgrade(service_dir: str, database_url: str, revision: str) -> None:
    config = alembic_config(service_dir, database_url)
    await asyncio.to_thread(command.downgrade, config, revision)


async def test_customers_saved_before_dotted_legal_forms_counted_are_found_too(
    crm: Crm, crm_settings: Settings, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    first = (
        await crm.client.post("/customers", json=acme(name="Acme S.A."), headers=headers)
    ).json()
    # What the key of that name was before "S.A." read as a legal form.
    await execute(
        crm_settings.database_url,
        "UPDATE customers SET name_match = 'acme s a' WHERE name = 'Acme S.A.'",
    )
    await downgrade("crm-service", crm_settings.database_url, "0003")
    await upgrade("crm-service", crm_settings.database_url)
    duplicate = await crm.client.post(
        "/customers", json=acme(name="ACME SA", email=None), headers=headers
    )
    assert duplicate.status_code == 409, duplicate.text
    assert duplicate.json()["existing_id"] == first["id"]


async def test_an_archived_customer_is_no_duplicate(crm: Crm, sales_rep: uuid.UUID) -> None:
    headers = crm.headers("sales", sales_rep)
    first = (await crm.client.post("/customers", json=acme(), headers=headers)).json()
    assert (await crm.client.post(f"/customers/{first['id']}/archive", headers=headers)).is_success
    again = await crm.client.post("/customers", json=acme(), headers=headers)
    assert again.status_code == 201, again.text
    assert again.json()["id"] != first["id"]
    assert again.json()["status"] == "active"


async def test_update_publishes_changes_with_before_and_after(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    created = (await crm.client.post("/customers", json=acme(), headers=headers)).json()
    changed = await crm.client.patch(
        f"/customers/{created['id']}",
        json={"phone": "+49 30 1", "tags": ["VIP ", "vip", "North"], "name": "Acme GmbH"},
        headers={**headers, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    assert changed.json()["tags"] == ["vip", "north"]
    [event] = await crm.events("crm.customer.updated.v1")
    assert event["data"]["version"] == 2
    assert event["data"]["phone"] == "+49 30 1"
    assert event["data"]["changes"] == [
        {"field": "phone", "before": None, "after": "+49 30 1"},
        {"field": "tags", "before": [], "after": ["vip", "north"]},
    ]


async def test_an_update_that_changes_nothing_publishes_nothing(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    created = (await crm.client.post("/customers", json=acme(), headers=headers)).json()
    same = await crm.client.patch(
        f"/customers/{created['id']}", json={"name": "Acme GmbH"}, headers=headers
    )
    assert same.status_code == 200
    assert same.headers["etag"] == '"1"'
    assert await crm.events("crm.customer.updated.v1") == []


async def test_a_stale_if_match_is_412_and_changes_nothing(crm: Crm, sales_rep: uuid.UUID) -> None:
    headers = crm.headers("sales", sales_rep)
    created = (await crm.client.post("/customers", json=acme(), headers=headers)).json()
    url = f"/customers/{created['id']}"
    assert (await crm.client.patch(url, json={"phone": "1"}, headers=headers)).status_code == 200
    stale = await crm.client.patch(url, json={"phone": "2"}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert (await crm.client.get(url, headers=headers)).json()["phone"] == "1"
    for garbage in (b"yesterday", '"²"'.encode("latin-1")):
        unreadable = await crm.client.patch(
            url, json={"phone": "3"}, headers={**headers, "If-Match": garbage}
        )
        assert unreadable.status_code == 400, garbage
        assert unreadable.headers["content-type"] == "application/problem+json"
    # A version of more digits than any number holds is no version the record has.
    huge = await crm.client.patch(
        url, json={"phone": "3"}, headers={**headers, "If-Match": f'"{"9" * 5000}"'}
    )
    assert huge.status_code == 412
    assert (await crm.client.get(url, headers=headers)).json()["phone"] == "1"


async def test_status_and_unknown_fields_cannot_be_patched(crm: Crm, sales_rep: uuid.UUID) -> None:
    headers = crm.headers("sales", sales_rep)
    created = (await crm.client.post("/customers", json=acme(), headers=headers)).json()
    for body in ({"status": "archived"}, {"archived_at": "2026-01-01T00:00:00Z"}, {"id": "x"}):
        response = await crm.client.patch(f"/customers/{created['id']}", json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == next(iter(body))
    unchanged = await crm.client.get(f"/customers/{created['id']}", headers=headers)
    assert unchanged.json() == created
    assert await crm.events("crm.customer.updated.v1") == []
    assert await crm.events("crm.customer.archived.v1") == []


async def test_archive_and_restore_follow_the_life_cycle(crm: Crm, sales_rep: uuid.UUID) -> None:
    headers = crm.headers("sales", sales_rep)
    created = (await crm.client.post("/customers", json=acme(), headers=headers)).json()
    url = f"/customers/{created['id']}"
    archived = await crm.client.post(f"{url}/archive", headers=headers)
    assert archived.json()["status"] == "archived"
    again = await crm.client.post(f"{url}/archive", headers=headers)
    assert again.status_code == 409
    assert again.json()["current_status"] == "archived"
    assert again.json()["allowed"] == ["restore"]
    frozen = await crm.client.patch(url, json={"phone": "1"}, headers=headers)
    assert frozen.status_code == 409
    assert (await crm.client.get(url, headers=headers)).json() == archived.json()
    restored = await crm.client.post(f"{url}/restore", headers=headers)
    assert restored.json()["status"] == "active"
    [archived_event] = await crm.events("crm.customer.archived.v1")
    assert archived_event["data"]["version"] == 2
    [restored_event] = await crm.events("crm.customer.updated.v1")
    assert restored_event["data"]["changes"] == [
        {"field": "archived", "before": True, "after": False}
    ]


async def test_unknown_customer_is_404(crm: Crm) -> None:
    response = await crm.client.get(f"/customers/{uuid.uuid4()}", headers=crm.headers("sales"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_bad_input_is_422_per_field_and_changes_nothing(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    bad = {
        "kind": "robot",
        "name": "",
        "email": "not-an-email",
        "credit_limit": "12.345",
        "billing_address": {"street": "x", "city": "y", "country": "Germany"},
    }
    response = await crm.client.post("/customers", json=bad, headers=headers)
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"kind", "name", "email", "credit_limit", "billing_address.country"} <= fields
    assert await crm.events() == []


async def test_null_payment_terms_are_refused_naming_them(crm: Crm, sales_rep: uuid.UUID) -> None:
    created = await crm.client.post(
        "/customers", json=acme(), headers=crm.headers("sales", sales_rep)
    )
    url = f"/customers/{created.json()['id']}"
    finance = crm.headers("finance")

    response = await crm.client.patch(
        url, json={"credit_limit": "5000.00", "payment_terms_days": None}, headers=finance
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"field": "payment_terms_days", "message": "may not be null"}
    ]
    current = await crm.client.get(url, headers=finance)
    assert (current.json(), current.headers["etag"]) == (created.json(), '"1"')
    assert await crm.events("crm.customer.updated.v1") == []
