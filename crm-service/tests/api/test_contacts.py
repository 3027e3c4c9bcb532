"""A customer's contacts: one primary, versioned edits, removal, and their list: a page
like every other list, the primary contact first."""

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
    listed = (await crm.client.get(url, headers=headers)).json()["items"]
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

    listed = (await crm.client.get(url, headers=headers)).json()["items"]
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
    assert (await crm.client.get(url, headers=headers)).json() == {
        "items": [],
        "next_cursor": None,
    }


async def a_customer_with_contacts(
    crm: Crm, headers: dict[str, str], names: list[str], primary: str
) -> str:
    """A customer with contacts of `names` (each `<name>@acme.example`), `primary` the
    primary one; the URL of its contacts."""
    customer = await crm.client.post(
        "/customers", json={"kind": "company", "name": "Acme"}, headers=headers
    )
    url = f"/customers/{customer.json()['id']}/contacts"
    for name in names:
        body = {
            "name": name,
            "email": f"{name.lower()}@acme.example",
            "is_primary": name == primary,
        }
        made = await crm.client.post(url, json=body, headers=headers)
        assert made.status_code == 201, made.text
    return url


async def every_page(
    crm: Crm, url: str, headers: dict[str, str], **params: str | int
) -> list[list[str]]:
    """The names on each page of a list, following `next_cursor` to the end."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await crm.client.get(url, params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next_cursor"}
        pages.append([contact["name"] for contact in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


async def test_contacts_are_listed_in_pages_primary_first_then_by_name(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    # Names that sort differently by case, with a twin: the id decides between twins.
    names = ["omar", "Bea", "Cem", "ada", "Dan", "Bea", "Eva"]
    url = await a_customer_with_contacts(crm, headers, names, primary="Dan")

    first = await crm.client.get(url, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["next_cursor"] is None
    assert [c["name"] for c in first.json()["items"]] == [
        "Dan",
        "ada",
        "Bea",
        "Bea",
        "Cem",
        "Eva",
        "omar",
    ]
    ids = [c["id"] for c in first.json()["items"]]
    twins = [c["id"] for c in first.json()["items"] if c["name"] == "Bea"]
    assert twins == sorted(twins)

    pages = await every_page(crm, url, headers, limit=2)
    assert pages == [["Dan", "ada"], ["Bea", "Bea"], ["Cem", "Eva"], ["omar"]]
    walked = []
    cursor = None
    while True:
        page = (
            await crm.client.get(
                url, params={"limit": 3, **({"cursor": cursor} if cursor else {})}, headers=headers
            )
        ).json()
        walked.extend(c["id"] for c in page["items"])
        if (cursor := page["next_cursor"]) is None:
            break
    assert walked == ids

    by_name = await every_page(crm, url, headers, limit=3, sort="name")
    assert by_name == [["ada", "Bea", "Bea"], ["Cem", "Dan", "Eva"], ["omar"]]
    backwards = await every_page(crm, url, headers, limit=4, sort="-primary")
    assert backwards == [["omar", "Eva", "Cem", "Bea"], ["Bea", "ada", "Dan"]]
    newest = await every_page(crm, url, headers, limit=5, sort="-created_at")
    assert sorted(name for page in newest for name in page) == sorted(names)


async def test_contacts_are_searched_by_a_prefix_of_name_or_email(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    url = await a_customer_with_contacts(crm, headers, ["Jana", "Jan", "Omar", "Jo"], "Omar")
    bo = await crm.client.post(
        url, json={"name": "Bo", "email": "JANet@x.example"}, headers=headers
    )
    assert bo.status_code == 201, bo.text

    assert await every_page(crm, url, headers, q="JAN", limit=1) == [["Bo"], ["Jan"], ["Jana"]]
    assert await every_page(crm, url, headers, q="o") == [["Omar"]]
    assert await every_page(crm, url, headers, q="j", sort="-name") == [["Jo", "Jana", "Jan", "Bo"]]


async def test_a_page_of_contacts_holds_at_most_200(crm: Crm, sales_rep: uuid.UUID) -> None:
    headers = crm.headers("sales", sales_rep)
    url = await a_customer_with_contacts(crm, headers, ["Jana", "Omar"], primary="Jana")

    for limit in ("201", "0", "many"):
        refused = await crm.client.get(url, params={"limit": limit}, headers=headers)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["query.limit"]
    most = await crm.client.get(url, params={"limit": 200}, headers=headers)
    assert most.status_code == 200, most.text
    assert len(most.json()["items"]) == 2
    # A cursor is bound to the order it was issued for.
    cursor = (await crm.client.get(url, params={"limit": 1}, headers=headers)).json()["next_cursor"]
    assert cursor is not None
    for name, query in (
        ("sort", {"sort": "email"}),
        ("cursor", {"cursor": "not-a-cursor"}),
        ("cursor", {"cursor": cursor, "sort": "name"}),
    ):
        refused = await crm.client.get(url, params=query, headers=headers)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [f"query.{name}"]


async def test_the_contacts_of_an_unknown_customer_are_a_404(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    response = await crm.client.get(
        f"/customers/{uuid.uuid4()}/contacts", params={"limit": 10}, headers=headers
    )
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_new_contact_was_updated_when_it_was_created_and_a_change_moves_it_on(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    customer = (
        await crm.client.post(
            "/customers", json={"kind": "company", "name": "Stamp GmbH"}, headers=headers
        )
    ).json()
    url = f"/customers/{customer['id']}/contacts"
    added = (await crm.client.post(url, json={"name": "Ida"}, headers=headers)).json()
    assert added["updated_at"] == added["created_at"]
    listed = (await crm.client.get(url, headers=headers)).json()["items"]
    assert (listed[0]["created_at"], listed[0]["updated_at"]) == (added["created_at"],) * 2
    changed = await crm.client.patch(f"{url}/{added['id']}", json={"title": "CFO"}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["created_at"] == added["created_at"]
    assert changed.json()["updated_at"] > added["updated_at"]
