"""A customer's contacts: one primary, versioned edits, removal."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.support.crm import Crm
from tests.support.races import holding, require_postgresql, waiting

pytestmark = pytest.mark.api


async def test_contacts_keep_one_primary_and_honour_if_match(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    customer = (
        await crm.client.post(
            "/customers", json={"kind": "company", "name": "Acme"}, headers=headers
        )
    ).json()
    url = f"/customers/{customer['id']}/contacts"
    jana = (
        await crm.client.post(
            url,
            json={"name": "Jana", "is_primary": True, "email": "J@acme.example"},
            headers=headers,
        )
    ).json()
    assert jana["email"] == "J@acme.example"
    omar = await crm.client.post(url, json={"name": "Omar", "is_primary": True}, headers=headers)
    assert omar.status_code == 201
    listed = (await crm.client.get(url, headers=headers)).json()
    assert [(c["name"], c["is_primary"]) for c in listed] == [("Omar", True), ("Jana", False)]

    stale = await crm.client.patch(
        f"{url}/{jana['id']}", json={"title": "CFO"}, headers={**headers, "If-Match": '"9"'}
    )
    assert stale.status_code == 412
    unchanged = await crm.client.get(f"{url}/{jana['id']}", headers=headers)
    assert (unchanged.json()["title"], unchanged.headers["etag"]) == (None, '"2"')
    changed = await crm.client.patch(
        f"{url}/{jana['id']}", json={"title": "CFO"}, headers={**headers, "If-Match": '"2"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"3"'
    assert changed.json()["title"] == "CFO"

    assert (await crm.client.delete(f"{url}/{jana['id']}", headers=headers)).status_code == 204
    assert (await crm.client.get(f"{url}/{jana['id']}", headers=headers)).status_code == 404
    other_customer = (
        await crm.client.post("/customers", json={"kind": "person", "name": "Bo"}, headers=headers)
    ).json()
    wrong_parent = await crm.client.get(
        f"/customers/{other_customer['id']}/contacts/{omar.json()['id']}", headers=headers
    )
    assert wrong_parent.status_code == 404
    assert (
        await crm.client.get(f"/customers/{uuid.uuid4()}/contacts", headers=headers)
    ).status_code == 404


async def test_a_null_primary_flag_is_refused_naming_it(crm: Crm, sales_rep: uuid.UUID) -> None:
    headers = crm.headers("sales", sales_rep)
    customer = await crm.client.post(
        "/customers", json={"kind": "company", "name": "Acme"}, headers=headers
    )
    url = f"/customers/{customer.json()['id']}/contacts"
    jana = await crm.client.post(url, json={"name": "Jana", "is_primary": True}, headers=headers)
    events = await crm.events()

    response = await crm.client.patch(
        f"{url}/{jana.json()['id']}", json={"is_primary": None, "title": "CFO"}, headers=headers
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"field": "is_primary", "message": "may not be null"}]
    current = await crm.client.get(f"{url}/{jana.json()['id']}", headers=headers)
    assert (current.json(), current.headers["etag"]) == (jana.json(), '"1"')
    assert await crm.events() == events


async def test_two_contacts_made_primary_at_once_leave_one_primary(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    """Both writers wait behind the current primary's row; the one that comes second must
    see the first one's new primary, not only the old one it demoted."""
    require_postgresql(crm.engine)
    headers = crm.headers("sales", sales_rep)
    customer = await crm.client.post(
        "/customers", json={"kind": "company", "name": "Acme"}, headers=headers
    )
    url = f"/customers/{customer.json()['id']}/contacts"
    first = await crm.client.post(url, json={"name": "Jana", "is_primary": True}, headers=headers)

    async def make_primary(name: str) -> httpx.Response:
        return await crm.client.post(url, json={"name": name, "is_primary": True}, headers=headers)

    locked = "SELECT id FROM contacts WHERE id = :id FOR UPDATE"
    async with holding(crm.engine, locked, id=first.json()["id"]):
        omar = asyncio.create_task(make_primary("Omar"))
        await waiting(crm.engine, 1)
        lea = asyncio.create_task(make_primary("Lea"))
        await waiting(crm.engine, 2)
    assert [(await omar).status_code, (await lea).status_code] == [201, 201]

    listed = (await crm.client.get(url, headers=headers)).json()
    assert [c["name"] for c in listed if c["is_primary"]] == ["Lea"]


async def test_a_stale_if_match_keeps_a_contact_from_being_removed(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    customer = await crm.client.post(
        "/customers", json={"kind": "company", "name": "Acme"}, headers=headers
    )
    url = f"/customers/{customer.json()['id']}/contacts"
    jana = await crm.client.post(url, json={"name": "Jana"}, headers=headers)
    assert jana.status_code == 201, jana.text
    # Someone else changed the contact since this client read it (version 1).
    changed = await crm.client.patch(
        f"{url}/{jana.json()['id']}", json={"title": "CFO"}, headers=headers
    )
    assert changed.headers["etag"] == '"2"'

    stale = await crm.client.delete(
        f"{url}/{jana.json()['id']}", headers={**headers, "If-Match": '"1"'}
    )

    assert stale.status_code == 412, stale.text
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["current_version"] == 2
    kept = await crm.client.get(f"{url}/{jana.json()['id']}", headers=headers)
    assert kept.json() == changed.json()
    fresh = await crm.client.delete(
        f"{url}/{jana.json()['id']}", headers={**headers, "If-Match": '"2"'}
    )
    assert fresh.status_code == 204, fresh.text
    assert (await crm.client.get(url, headers=headers)).json() == []
