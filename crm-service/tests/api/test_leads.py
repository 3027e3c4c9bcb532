"""Leads through the HTTP API, on SQLite and PostgreSQL: capture, life cycle, conversion,
lists and who may do what."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api

# The lead life cycle as a user sees it: the actions each status allows.
ACTIONS = ("contact", "qualify", "disqualify", "convert")
ALLOWED = {
    "new": ["contact", "qualify", "disqualify", "convert"],
    "contacted": ["qualify", "disqualify", "convert"],
    "qualified": ["disqualify", "convert"],
    "converted": [],
    "disqualified": [],
}
# How to bring a new lead into each status.
ROUTE_TO = {
    "new": [],
    "contacted": ["contact"],
    "qualified": ["qualify"],
    "converted": ["convert"],
    "disqualified": ["disqualify"],
}
EVENT_OF = {
    "contact": None,  # there is no event type for first contact
    "qualify": "crm.lead.qualified.v1",
    "disqualify": "crm.lead.disqualified.v1",
    "convert": "crm.lead.converted.v1",
}
RESULT_OF = {
    "contact": "contacted",
    "qualify": "qualified",
    "disqualify": "disqualified",
    "convert": "converted",
}


def jana(**overrides: object) -> dict[str, object]:
    return {
        "name": "Jana Novak",
        "company_name": "Novak Bau GmbH",
        "email": "jana@novak-bau.example",
        "phone": "+49 89 5550101",
        "source": "web",
        **overrides,
    }


def body_of(action: str) -> dict[str, Any] | None:
    return {"reason": "No budget this year"} if action == "disqualify" else None


async def new_lead(crm: Crm, headers: dict[str, str], **overrides: object) -> dict[str, Any]:
    response = await crm.client.post("/leads", json=jana(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    lead: dict[str, Any] = response.json()
    return lead


async def act(
    crm: Crm, lead_id: str, action: str, headers: dict[str, str], body: Any = None
) -> Any:
    return await crm.client.post(
        f"/leads/{lead_id}/{action}",
        json=body if body is not None else body_of(action),
        headers=headers,
    )


async def lead_in(crm: Crm, status: str, headers: dict[str, str]) -> dict[str, Any]:
    lead = await new_lead(crm, headers)
    for action in ROUTE_TO[status]:
        response = await act(crm, lead["id"], action, headers)
        assert response.status_code == 200, response.text
        lead = response.json()
    return lead


async def test_sales_captures_a_lead_they_own_and_it_is_published(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    response = await crm.client.post("/leads", json=jana(), headers=headers)
    assert response.status_code == 201, response.text
    lead = response.json()
    assert lead["status"] == "new"
    assert lead["owner_id"] == str(sales_rep)
    assert lead["customer_id"] is None
    assert lead["converted_at"] is None
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/leads/{lead['id']}"
    [event] = await crm.events("crm.lead.created.v1")
    assert event["subject"] == lead["id"]
    assert event["actor"] == f"user-sales-{sales_rep}"
    assert event["data"]["status"] == "new"
    assert event["data"]["company_name"] == "Novak Bau GmbH"
    assert event["data"]["owner_id"] == str(sales_rep)
    assert event["data"]["version"] == 1
    fetched = await crm.client.get(f"/leads/{lead['id']}", headers=crm.headers("sales_manager"))
    assert fetched.json() == lead
    assert fetched.headers["etag"] == '"1"'


async def test_the_owner_defaults_to_the_creator_only_if_they_may_own_leads(crm: Crm) -> None:
    manager = await crm.hire("sales_manager")
    admin = await crm.hire("admin")
    by_manager = await new_lead(crm, crm.headers("sales_manager", manager))
    by_admin = await new_lead(crm, crm.headers("admin", admin))
    assert by_manager["owner_id"] == str(manager)
    assert by_admin["owner_id"] is None


@pytest.mark.parametrize(
    ("status", "action"),
    [(status, action) for status, actions in ALLOWED.items() for action in actions],
)
async def test_every_legal_transition_moves_the_lead_and_publishes_its_event(
    crm: Crm, sales_rep: uuid.UUID, status: str, action: str
) -> None:
    headers = crm.headers("sales", sales_rep)
    lead = await lead_in(crm, status, headers)
    before = {event["id"] for event in await crm.events()}
    response = await act(crm, lead["id"], action, headers)
    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["status"] == RESULT_OF[action]
    assert moved["version"] == lead["version"] + 1
    assert response.headers["etag"] == f'"{moved["version"]}"'
    published = [event for event in await crm.events() if event["id"] not in before]
    lead_events = [event for event in published if event["type"].startswith("crm.lead.")]
    if EVENT_OF[action] is None:
        assert published == []
        return
    [event] = lead_events
    assert event["type"] == EVENT_OF[action]
    assert event["subject"] == lead["id"]
    assert event["data"]["previous_status"] == status
    assert event["data"]["version"] == moved["version"]
    if action == "disqualify":
        assert moved["disqualification_reason"] == "No budget this year"
        assert event["data"]["reason"] == "No budget this year"


@pytest.mark.parametrize("status", ["contacted", "qualified", "converted", "disqualified"])
async def test_every_illegal_transition_is_409_naming_status_and_allowed_actions(
    crm: Crm, sales_rep: uuid.UUID, status: str
) -> None:
    headers = crm.headers("sales", sales_rep)
    lead = await lead_in(crm, status, headers)
    events = await crm.events()
    for action in (a for a in ACTIONS if a not in ALLOWED[status]):
        response = await act(crm, lead["id"], action, headers)
        assert response.status_code == 409, (action, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["current_status"] == status
        assert response.json()["allowed"] == ALLOWED[status]
    after = (await crm.client.get(f"/leads/{lead['id']}", headers=headers)).json()
    assert (after["status"], after["version"]) == (status, lead["version"])
    assert await crm.events() == events


async def test_disqualifying_needs_a_reason(crm: Crm, sales_rep: uuid.UUID) -> None:
    headers = crm.headers("sales", sales_rep)
    lead = await new_lead(crm, headers)
    for body in ({}, {"reason": ""}):
        response = await act(crm, lead["id"], "disqualify", headers, body)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == "reason"
    missing = await crm.client.post(f"/leads/{lead['id']}/disqualify", headers=headers)
    assert missing.status_code == 422
    assert (await crm.client.get(f"/leads/{lead['id']}", headers=headers)).json() == lead
    assert await crm.events("crm.lead.disqualified.v1") == []


async def test_patch_changes_details_but_never_the_status(crm: Crm, sales_rep: uuid.UUID) -> None:
    headers = crm.headers("sales", sales_rep)
    lead = await new_lead(crm, headers)
    url = f"/leads/{lead['id']}"
    changed = await crm.client.patch(
        url, json={"phone": "+49 89 1", "notes": "Call after 3pm"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["phone"] == "+49 89 1"
    assert changed.headers["etag"] == '"2"'
    for body in ({"status": "qualified"}, {"customer_id": str(uuid.uuid4())}, {"id": "x"}):
        refused = await crm.client.patch(url, json=body, headers=headers)
        assert refused.status_code == 422, body
        assert refused.json()["errors"][0]["field"] == next(iter(body))
    assert (await crm.client.get(url, headers=headers)).json()["status"] == "new"
    assert [e["type"] for e in await crm.events()] == ["crm.lead.created.v1"]


@pytest.mark.parametrize("status", ["converted", "disqualified"])
async def test_a_closed_lead_cannot_be_changed(crm: Crm, sales_rep: uuid.UUID, status: str) -> None:
    headers = crm.headers("sales", sales_rep)
    lead = await lead_in(crm, status, headers)
    events = await crm.events()
    response = await crm.client.patch(f"/leads/{lead['id']}", json={"phone": "1"}, headers=headers)
    assert response.status_code == 409
    assert response.json()["current_status"] == status
    assert (await crm.client.get(f"/leads/{lead['id']}", headers=headers)).json() == lead
    assert await crm.events() == events


async def test_a_stale_if_match_is_412_and_changes_nothing(crm: Crm, sales_rep: uuid.UUID) -> None:
    headers = crm.headers("sales", sales_rep)
    lead = await new_lead(crm, headers)
    url = f"/leads/{lead['id']}"
    assert (await crm.client.patch(url, json={"phone": "1"}, headers=headers)).status_code == 200
    stale = {**headers, "If-Match": '"1"'}
    patched = await crm.client.patch(url, json={"phone": "2"}, headers=stale)
    assert patched.status_code == 412
    assert patched.json()["current_version"] == 2
    qualified = await crm.client.post(f"{url}/qualify", headers=stale)
    assert qualified.status_code == 412
    now = (await crm.client.get(url, headers=headers)).json()
    assert (now["phone"], now["status"], now["version"]) == ("1", "new", 2)
    fresh = await crm.client.post(f"{url}/qualify", headers={**headers, "If-Match": '"2"'})
    assert fresh.status_code == 200


async def test_idempotency_key_replays_the_first_capture(crm: Crm, sales_rep: uuid.UUID) -> None:
    headers = {**crm.headers("sales", sales_rep), "Idempotency-Key": "lead-jana-1"}
    first = await crm.client.post("/leads", json=jana(), headers=headers)
    again = await crm.client.post("/leads", json=jana(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    other = await crm.client.post("/leads", json=jana(name="Someone Else"), headers=headers)
    assert other.status_code == 422
    listed = await crm.client.get("/leads", headers=headers)
    assert [lead["id"] for lead in listed.json()["items"]] == [first.json()["id"]]
    assert len(await crm.events("crm.lead.created.v1")) == 1


async def test_unknown_lead_is_404(crm: Crm, sales_rep: uuid.UUID) -> None:
    headers = crm.headers("sales", sales_rep)
    missing = uuid.uuid4()
    assert (await crm.client.get(f"/leads/{missing}", headers=headers)).status_code == 404
    assert (await act(crm, str(missing), "qualify", headers)).status_code == 404


# -- conversion ---------------------------------------------------------------------------


async def test_converting_creates_the_company_customer_from_the_lead(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    lead = await lead_in(crm, "qualified", headers)
    response = await act(crm, lead["id"], "convert", headers, {})
    assert response.status_code == 200, response.text
    converted = response.json()
    assert converted["status"] == "converted"
    assert converted["converted_at"] is not None
    assert converted["opportunity_id"] is None
    customer = (
        await crm.client.get(f"/customers/{converted['customer_id']}", headers=headers)
    ).json()
    assert (customer["kind"], customer["name"]) == ("company", "Novak Bau GmbH")
    assert customer["email"] == "jana@novak-bau.example"
    assert customer["owner_id"] == str(sales_rep)
    [created] = await crm.events("crm.customer.created.v1")
    assert created["subject"] == customer["id"]
    [event] = await crm.events("crm.lead.converted.v1")
    assert event["data"]["customer_id"] == customer["id"]
    assert event["data"]["customer_created"] is True
    assert event["data"]["opportunity_id"] is None
    assert event["data"]["previous_status"] == "qualified"


async def test_converting_a_person_takes_the_converters_fields_over_the_leads(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    lead = await new_lead(crm, headers, company_name=None, email=None)
    address = {"street": "Isarweg 2", "city": "München", "country": "DE"}
    response = await act(
        crm, lead["id"], "convert", headers, {"customer": {"billing_address": address}}
    )
    assert response.status_code == 200, response.text
    customer_id = response.json()["customer_id"]
    customer = (await crm.client.get(f"/customers/{customer_id}", headers=headers)).json()
    assert (customer["kind"], customer["name"]) == ("person", "Jana Novak")
    assert customer["billing_address"]["city"] == "München"
    assert customer["phone"] == "+49 89 5550101"
    assert customer["email"] is None


async def test_converting_into_a_person_names_the_person_even_when_the_lead_has_a_company(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    lead = await new_lead(crm, headers)
    response = await act(crm, lead["id"], "convert", headers, {"customer": {"kind": "person"}})
    assert response.status_code == 200, response.text
    customer_id = response.json()["customer_id"]
    customer = (await crm.client.get(f"/customers/{customer_id}", headers=headers)).json()
    assert (customer["kind"], customer["name"]) == ("person", "Jana Novak")
    assert customer["email"] == "jana@novak-bau.example"
    # A company asked for by a lead without one is named after what the lead has.
    other = await new_lead(crm, headers, name="Piet Vos", company_name=None, email=None)
    response = await act(crm, other["id"], "convert", headers, {"customer": {"kind": "company"}})
    assert response.status_code == 200, response.text
    customer_id = response.json()["customer_id"]
    customer = (await crm.client.get(f"/customers/{customer_id}", headers=headers)).json()
    assert (customer["kind"], customer["name"]) == ("company", "Piet Vos")


async def test_converting_links_an_existing_active_customer(crm: Crm, sales_rep: uuid.UUID) -> None:
    headers = crm.headers("sales", sales_rep)
    existing = (
        await crm.client.post(
            "/customers",
            json={
                "kind": "company",
                "name": "Novak Holding",
                "email": "info@novak-holding.example",
            },
            headers=headers,
        )
    ).json()
    lead = await new_lead(crm, headers)
    response = await act(crm, lead["id"], "convert", headers, {"customer_id": existing["id"]})
    assert response.status_code == 200, response.text
    assert response.json()["customer_id"] == existing["id"]
    assert len(await crm.events("crm.customer.created.v1")) == 1  # only the existing one
    [event] = await crm.events("crm.lead.converted.v1")
    assert event["data"]["customer_created"] is False
    assert event["data"]["customer_id"] == existing["id"]


async def test_converting_into_an_archived_or_unknown_customer_is_422(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    archived = (
        await crm.client.post(
            "/customers",
            json={"kind": "company", "name": "Gone GmbH", "email": "info@gone.example"},
            headers=headers,
        )
    ).json()
    gone = await crm.client.post(f"/customers/{archived['id']}/archive", headers=headers)
    assert gone.status_code == 200, gone.text
    lead = await new_lead(crm, headers)
    for customer_id in (archived["id"], str(uuid.uuid4())):
        response = await act(crm, lead["id"], "convert", headers, {"customer_id": customer_id})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "customer_id"
    both = await act(
        crm, lead["id"], "convert", headers, {"customer_id": archived["id"], "customer": {}}
    )
    assert both.status_code == 422
    assert (await crm.client.get(f"/leads/{lead['id']}", headers=headers)).json() == lead
    assert len(await crm.events("crm.customer.created.v1")) == 1  # the archived one only
    assert await crm.events("crm.lead.converted.v1") == []


async def test_converting_with_an_opportunity_opens_it_for_the_leads_owner(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    manager = await crm.hire("sales_manager")
    lead = await new_lead(crm, crm.headers("sales", sales_rep))
    opportunity = {
        "name": "Novak: 40 units",
        "amount": "12000.00",
        "currency": "EUR",
        "expected_close_date": "2026-12-15",
    }
    response = await act(
        crm,
        lead["id"],
        "convert",
        crm.headers("sales_manager", manager),
        {"opportunity": opportunity},
    )
    assert response.status_code == 200, response.text
    converted = response.json()
    opened = await crm.client.get(
        f"/opportunities/{converted['opportunity_id']}", headers=crm.headers("sales", sales_rep)
    )
    assert opened.status_code == 200
    assert (
        opened.json()
        | {
            "name": "Novak: 40 units",
            "amount": "12000.00",
            "currency": "EUR",
            "expected_close_date": "2026-12-15",
            "stage": "prospecting",
            "probability": 10,
            "owner_id": str(sales_rep),
            "customer_id": converted["customer_id"],
            "lead_id": lead["id"],
        }
        == opened.json()
    )
    customer = await crm.client.get(
        f"/customers/{converted['customer_id']}", headers=crm.headers("sales", sales_rep)
    )
    assert customer.json()["owner_id"] == str(sales_rep)
    [event] = await crm.events("crm.lead.converted.v1")
    assert event["data"]["opportunity_id"] == converted["opportunity_id"]
    assert event["actor"] == f"user-sales_manager-{manager}"


async def test_a_duplicate_customer_makes_convert_409_so_the_client_can_link_or_force(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    existing = (
        await crm.client.post(
            "/customers",
            json={"kind": "company", "name": "NOVAK BAU", "email": "office@novak.example"},
            headers=headers,
        )
    ).json()
    lead = await new_lead(crm, headers)
    duplicate = await act(crm, lead["id"], "convert", headers, {})
    assert duplicate.status_code == 409
    assert duplicate.json()["existing_id"] == existing["id"]
    assert (await crm.client.get(f"/leads/{lead['id']}", headers=headers)).json()["status"] == "new"
    assert await crm.events("crm.lead.converted.v1") == []
    forced = await crm.client.post(
        f"/leads/{lead['id']}/convert?force=true", json={}, headers=headers
    )
    assert forced.status_code == 200, forced.text
    assert forced.json()["customer_id"] != existing["id"]
    assert len(await crm.events("crm.customer.created.v1")) == 2


async def test_a_failing_part_of_a_conversion_writes_nothing(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    lead = await lead_in(crm, "qualified", headers)
    events = await crm.events()
    opportunity = {"name": "Novak: 40 units", "amount": "12000.00", "currency": "USD"}
    response = await act(crm, lead["id"], "convert", headers, {"opportunity": opportunity})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "opportunity.currency"
    assert (await crm.client.get("/customers", headers=headers)).json()["items"] == []
    assert (await crm.client.get("/opportunities", headers=headers)).json()["items"] == []
    unchanged = (await crm.client.get(f"/leads/{lead['id']}", headers=headers)).json()
    assert unchanged == lead
    assert await crm.events() == events


# -- lists --------------------------------------------------------------------------------


async def test_lists_filter_by_status_owner_search_and_creation_time(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    other = await crm.hire("sales", name="Olga Other")
    mine = crm.headers("sales", sales_rep)
    jana_lead = await new_lead(crm, mine)
    piet = await new_lead(
        crm, mine, name="Piet de Vries", company_name="Vries BV", email="piet@vries.example"
    )
    anna = await new_lead(
        crm,
        crm.headers("sales", other),
        name="Anna Berg",
        company_name=None,
        email="novak-fan@mail.example",
    )
    await act(crm, piet["id"], "qualify", mine)
    await act(crm, anna["id"], "contact", crm.headers("sales", other))

    async def ids(**params: str | list[str]) -> list[str]:
        response = await crm.client.get("/leads", params=params, headers=mine)
        assert response.status_code == 200, response.text
        return [lead["id"] for lead in response.json()["items"]]

    assert await ids() == [anna["id"], piet["id"], jana_lead["id"]]
    assert await ids(status=["qualified", "contacted"]) == [anna["id"], piet["id"]]
    assert await ids(owner_id=str(other)) == [anna["id"]]
    assert await ids(q="NOVAK") == [anna["id"], jana_lead["id"]]  # email, then company
    assert await ids(q="piet") == [piet["id"]]
    assert await ids(q="vries b") == [piet["id"]]
    assert await ids(sort="name") == [anna["id"], jana_lead["id"], piet["id"]]
    assert await ids(created_from=piet["created_at"]) == [anna["id"], piet["id"]]
    assert await ids(created_to=piet["created_at"]) == [jana_lead["id"]]
    for bad in ("status=won", "sort=email", "limit=201", "cursor=nonsense", "owner_id=me"):
        assert (await crm.client.get(f"/leads?{bad}", headers=mine)).status_code == 422, bad


@pytest.mark.parametrize("sort", ["-created_at", "created_at", "name", "-name"])
async def test_paging_is_stable_while_leads_are_added(
    crm: Crm, sales_rep: uuid.UUID, sort: str
) -> None:
    headers = crm.headers("sales", sales_rep)
    existing = {(await new_lead(crm, headers, name=f"Lead {n}"))["id"] for n in "AEIMQU"}
    seen: list[str] = []
    cursor: str | None = None
    for page_number in range(20):
        params = {"limit": "2", "sort": sort, **({"cursor": cursor} if cursor else {})}
        response = await crm.client.get("/leads", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [lead["id"] for lead in page["items"]]
        # New rows between pages, sorting before, between and after those listed.
        for name in ("Lead A0", "Lead K", "Lead Z"):
            await new_lead(crm, headers, name=f"{name}{page_number}")
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "a row was listed twice"
    assert existing <= set(seen), "a row that existed at the start was skipped"


# -- who may do what ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["support", "warehouse", "finance", "hr"])
async def test_roles_outside_sales_may_not_use_leads(
    crm: Crm, sales_rep: uuid.UUID, role: str
) -> None:
    lead = await new_lead(crm, crm.headers("sales", sales_rep))
    headers = crm.headers(role, await crm.hire(role))
    url = f"/leads/{lead['id']}"
    calls = [
        await crm.client.get("/leads", headers=headers),
        await crm.client.get(url, headers=headers),
        await crm.client.post("/leads", json=jana(), headers=headers),
        await crm.client.patch(url, json={"phone": "1"}, headers=headers),
        *[await act(crm, lead["id"], action, headers) for action in ACTIONS],
    ]
    assert [call.status_code for call in calls] == [403] * len(calls)
    assert len(await crm.events("crm.lead.created.v1")) == 1


async def test_sales_read_every_lead_but_change_only_their_own(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    other = await crm.hire("sales")
    lead = await new_lead(crm, crm.headers("sales", other))
    mine = crm.headers("sales", sales_rep)
    url = f"/leads/{lead['id']}"
    assert (await crm.client.get(url, headers=mine)).status_code == 200
    assert (await crm.client.get("/leads", headers=mine)).json()["items"][0]["id"] == lead["id"]
    refused = [
        await crm.client.patch(url, json={"phone": "1"}, headers=mine),
        *[await act(crm, lead["id"], action, mine) for action in ACTIONS],
    ]
    assert [response.status_code for response in refused] == [403] * len(refused)
    assert (await crm.client.get(url, headers=mine)).json()["version"] == 1


@pytest.mark.parametrize("role", ["sales_manager", "admin"])
async def test_managers_and_admins_change_and_move_anyones_lead(
    crm: Crm, sales_rep: uuid.UUID, role: str
) -> None:
    boss = crm.headers(role, await crm.hire(role))
    lead = await new_lead(crm, crm.headers("sales", sales_rep))
    url = f"/leads/{lead['id']}"
    changed = await crm.client.patch(url, json={"phone": "1"}, headers=boss)
    assert changed.status_code == 200, changed.text
    assert changed.json()["phone"] == "1"
    for action in ("contact", "qualify", "convert"):
        response = await act(crm, lead["id"], action, boss)
        assert response.status_code == 200, (action, response.text)
        assert response.json()["status"] == RESULT_OF[action]
    assert response.json()["owner_id"] == str(sales_rep), "moving a lead keeps its owner"
    other = await new_lead(crm, crm.headers("sales", sales_rep), name="Second")
    disqualified = await act(crm, other["id"], "disqualify", boss)
    assert disqualified.status_code == 200, disqualified.text
    assert disqualified.json()["status"] == "disqualified"


async def test_sales_may_only_give_leads_to_themselves(crm: Crm, sales_rep: uuid.UUID) -> None:
    other = await crm.hire("sales")
    manager = await crm.hire("sales_manager")
    mine = crm.headers("sales", sales_rep)
    refused = await crm.client.post("/leads", json=jana(owner_id=str(other)), headers=mine)
    assert refused.status_code == 403
    assert refused.json()["errors"] == [
        {"field": "owner_id", "message": "not allowed for your role"}
    ]
    assert await crm.events("crm.lead.created.v1") == []
    assert (
        await crm.client.post("/leads", json=jana(owner_id=str(sales_rep)), headers=mine)
    ).status_code == 201
    lead = await new_lead(crm, mine)
    url = f"/leads/{lead['id']}"
    handed = await crm.client.patch(url, json={"owner_id": str(other)}, headers=mine)
    assert handed.status_code == 403
    assert handed.json()["errors"][0]["field"] == "owner_id"
    dropped = await crm.client.patch(url, json={"owner_id": None}, headers=mine)
    assert dropped.status_code == 403
    assert (await crm.client.get(url, headers=mine)).json() == lead
    boss = crm.headers("sales_manager", manager)
    assigned = await crm.client.patch(url, json={"owner_id": str(other)}, headers=boss)
    assert assigned.status_code == 200
    assert assigned.json()["owner_id"] == str(other)
    created = await crm.client.post("/leads", json=jana(owner_id=str(other)), headers=boss)
    assert created.status_code == 201, created.text
    assert created.json()["owner_id"] == str(other)


async def test_an_owner_must_be_an_active_sales_employee(crm: Crm, sales_rep: uuid.UUID) -> None:
    manager = crm.headers("sales_manager", await crm.hire("sales_manager"))
    supporter = await crm.hire("support")
    leaver = await crm.hire("sales")
    await crm.terminate(leaver, manager_id=None)
    for owner in (supporter, leaver, uuid.uuid4()):
        response = await crm.client.post("/leads", json=jana(owner_id=str(owner)), headers=manager)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "owner_id"
    assert await crm.events("crm.lead.created.v1") == []


async def test_converting_needs_the_right_to_set_the_customers_fields(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    lead = await new_lead(crm, headers)
    response = await act(
        crm, lead["id"], "convert", headers, {"customer": {"credit_limit": "50000.00"}}
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["field"] == "credit_limit"
    assert (await crm.client.get(f"/leads/{lead['id']}", headers=headers)).json() == lead
    assert (await crm.client.get("/customers", headers=headers)).json()["items"] == []
    assert await crm.events("crm.lead.converted.v1") == []
