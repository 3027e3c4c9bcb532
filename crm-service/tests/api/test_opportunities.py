"""Opportunities through the HTTP API, on SQLite and PostgreSQL: terms, the pipeline's
stages, winning and losing, lists and who may do what."""

from __future__ import annotations

import uuid
from itertools import permutations
from typing import Any

import pytest

from crm.config import Settings
from crm.service.opportunities import win_for_accepted_quote
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.database import session_factory
from shared_schemas.domain import Conflict
from tests.support.crm import Crm

pytestmark = pytest.mark.api

OPEN_STAGES = ("prospecting", "qualification", "proposal", "negotiation")
DEFAULT_PROBABILITY = {"prospecting": 10, "qualification": 20, "proposal": 50, "negotiation": 75}


async def customer_of(crm: Crm, headers: dict[str, str], name: str = "Acme GmbH") -> str:
    email = f"buying@{uuid.uuid4().hex[:8]}.example"
    response = await crm.client.post(
        "/customers", json={"kind": "company", "name": name, "email": email}, headers=headers
    )
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["id"]
    return customer_id


def deal(customer: str, **overrides: object) -> dict[str, object]:
    return {
        "name": "Acme: racking",
        "customer_id": customer,
        "amount": "12000.00",
        "expected_close_date": "2026-12-15",
        **overrides,
    }


async def new_opportunity(
    crm: Crm, headers: dict[str, str], customer_id: str, **overrides: object
) -> dict[str, Any]:
    response = await crm.client.post(
        "/opportunities", json=deal(customer_id, **overrides), headers=headers
    )
    assert response.status_code == 201, response.text
    opportunity: dict[str, Any] = response.json()
    return opportunity


async def move(
    crm: Crm, opportunity_id: str, route: str, headers: dict[str, str], body: Any = None
) -> Any:
    """POST /opportunities/{id}/<route>; route `stage:<name>` moves to that stage."""
    if route.startswith("stage:"):
        route, body = "stage", {"stage": route.removeprefix("stage:"), **(body or {})}
    elif route == "lose" and body is None:
        body = {"reason": "Chose a cheaper supplier"}
    return await crm.client.post(
        f"/opportunities/{opportunity_id}/{route}", json=body, headers=headers
    )


@pytest.fixture
async def rep(crm: Crm, sales_rep: uuid.UUID) -> dict[str, str]:
    return crm.headers("sales", sales_rep)


async def test_an_opportunity_opens_in_prospecting_owned_by_its_creator(
    crm: Crm, sales_rep: uuid.UUID, rep: dict[str, str]
) -> None:
    customer_id = await customer_of(crm, rep)
    response = await crm.client.post("/opportunities", json=deal(customer_id), headers=rep)
    assert response.status_code == 201, response.text
    opportunity = response.json()
    assert (
        opportunity
        | {
            "stage": "prospecting",
            "probability": 10,
            "currency": "EUR",
            "amount": "12000.00",
            "owner_id": str(sales_rep),
            "customer_id": customer_id,
            "lead_id": None,
            "closed_at": None,
            "version": 1,
        }
        == opportunity
    )
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/opportunities/{opportunity['id']}"
    fetched = await crm.client.get(f"/opportunities/{opportunity['id']}", headers=rep)
    assert fetched.json() == opportunity
    # The opportunity topic has no creation event; its first event is its first move.
    assert [e for e in await crm.events() if e["type"].startswith("crm.opportunity.")] == []


async def test_probability_defaults_per_stage_unless_given(crm: Crm, rep: dict[str, str]) -> None:
    customer_id = await customer_of(crm, rep)
    for stage, probability in DEFAULT_PROBABILITY.items():
        opened = await new_opportunity(crm, rep, customer_id, stage=stage)
        assert (opened["stage"], opened["probability"]) == (stage, probability)
    chosen = await new_opportunity(crm, rep, customer_id, stage="proposal", probability=35)
    assert chosen["probability"] == 35


async def test_bad_terms_are_422_per_field_and_write_nothing(crm: Crm, rep: dict[str, str]) -> None:
    customer_id = await customer_of(crm, rep)
    archived = await customer_of(crm, rep, name="Gone GmbH")
    await crm.client.post(f"/customers/{archived}/archive", headers=rep)
    cases: list[tuple[dict[str, object], str]] = [
        ({"currency": "USD"}, "currency"),
        ({"customer_id": str(uuid.uuid4())}, "customer_id"),
        ({"customer_id": archived}, "customer_id"),
        ({"amount": "-1.00"}, "amount"),
        ({"amount": "10.001"}, "amount"),
        ({"probability": 101}, "probability"),
        ({"stage": "won"}, "stage"),
        ({"name": ""}, "name"),
    ]
    for overrides, field in cases:
        response = await crm.client.post(
            "/opportunities", json=deal(customer_id, **overrides), headers=rep
        )
        assert response.status_code == 422, (overrides, response.text)
        assert response.json()["errors"][0]["field"] == field, overrides
    assert (await crm.client.get("/opportunities", headers=rep)).json()["items"] == []


async def test_every_move_between_open_stages_publishes_stage_changed(
    crm: Crm, rep: dict[str, str]
) -> None:
    customer_id = await customer_of(crm, rep)
    for start, target in permutations(OPEN_STAGES, 2):
        opened = await new_opportunity(crm, rep, customer_id, stage=start)
        response = await move(crm, opened["id"], f"stage:{target}", rep)
        assert response.status_code == 200, (start, target, response.text)
        moved = response.json()
        assert (moved["stage"], moved["probability"]) == (target, DEFAULT_PROBABILITY[target])
        assert moved["version"] == 2
        event = (await crm.events("crm.opportunity.stage_changed.v1"))[-1]
        assert event["subject"] == opened["id"]
        assert (
            event["data"]
            | {
                "stage": target,
                "previous_stage": start,
                "probability": str(DEFAULT_PROBABILITY[target]),
                "amount": "12000.00",
                "currency": "EUR",
                "version": 2,
            }
            == event["data"]
        )
    assert len(await crm.events("crm.opportunity.stage_changed.v1")) == 12


@pytest.mark.parametrize("start", OPEN_STAGES)
async def test_an_open_opportunity_can_be_won_or_lost_from_any_stage(
    crm: Crm, rep: dict[str, str], start: str
) -> None:
    customer_id = await customer_of(crm, rep)
    to_win = await new_opportunity(crm, rep, customer_id, stage=start)
    won = await move(crm, to_win["id"], "win", rep)
    assert won.status_code == 200, won.text
    assert (won.json()["stage"], won.json()["probability"]) == ("won", 100)
    assert won.json()["closed_at"] is not None
    to_lose = await new_opportunity(crm, rep, customer_id, stage=start)
    lost = await move(crm, to_lose["id"], "lose", rep)
    assert lost.status_code == 200, lost.text
    assert (lost.json()["stage"], lost.json()["probability"]) == ("lost", 0)
    assert lost.json()["loss_reason"] == "Chose a cheaper supplier"
    [won_event] = await crm.events("crm.opportunity.won.v1")
    assert (
        won_event["data"]
        | {
            "stage": "won",
            "previous_stage": start,
            "quote_id": None,
            "probability": "100",
        }
        == won_event["data"]
    )
    [lost_event] = await crm.events("crm.opportunity.lost.v1")
    assert (
        lost_event["data"]
        | {
            "stage": "lost",
            "previous_stage": start,
            "reason": "Chose a cheaper supplier",
            "probability": "0",
        }
        == lost_event["data"]
    )


async def test_moving_to_the_current_stage_is_409_naming_the_allowed_moves(
    crm: Crm, rep: dict[str, str]
) -> None:
    opened = await new_opportunity(crm, rep, await customer_of(crm, rep), stage="proposal")
    response = await move(crm, opened["id"], "stage:proposal", rep)
    assert response.status_code == 409
    assert response.json()["current_status"] == "proposal"
    assert response.json()["detail"] == (
        "An opportunity in status 'proposal' cannot move to proposal; allowed: "
        "prospecting, qualification, negotiation, win, lose."
    )
    assert response.json()["allowed"] == [
        "prospecting",
        "qualification",
        "negotiation",
        "win",
        "lose",
    ]
    unchanged = await crm.client.get(f"/opportunities/{opened['id']}", headers=rep)
    assert unchanged.json() == opened
    assert await crm.events("crm.opportunity.stage_changed.v1") == []


@pytest.mark.parametrize("outcome", ["win", "lose"])
async def test_won_and_lost_are_final(crm: Crm, rep: dict[str, str], outcome: str) -> None:
    opened = await new_opportunity(crm, rep, await customer_of(crm, rep))
    closed = (await move(crm, opened["id"], outcome, rep)).json()
    events = await crm.events()
    for route in ("win", "lose", *(f"stage:{stage}" for stage in OPEN_STAGES)):
        response = await move(crm, opened["id"], route, rep)
        assert response.status_code == 409, route
        assert response.json()["current_status"] == closed["stage"]
        assert response.json()["allowed"] == []
    patched = await crm.client.patch(
        f"/opportunities/{opened['id']}", json={"amount": "1.00"}, headers=rep
    )
    assert patched.status_code == 409
    after = (await crm.client.get(f"/opportunities/{opened['id']}", headers=rep)).json()
    assert after == closed
    assert await crm.events() == events


async def test_stage_moves_refuse_closing_stages_and_losing_needs_a_reason(
    crm: Crm, rep: dict[str, str]
) -> None:
    opened = await new_opportunity(crm, rep, await customer_of(crm, rep))
    for body in ({"stage": "won"}, {"stage": "lost"}, {}, {"stage": "proposal", "probability": -1}):
        response = await move(crm, opened["id"], "stage", rep, body)
        assert response.status_code == 422, body
    for body in ({}, {"reason": ""}):
        response = await move(crm, opened["id"], "lose", rep, body)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == "reason"
    after = (await crm.client.get(f"/opportunities/{opened['id']}", headers=rep)).json()
    assert (after["stage"], after["version"]) == ("prospecting", 1)


async def test_a_stage_change_takes_the_stage_default_unless_the_client_sets_one(
    crm: Crm, rep: dict[str, str]
) -> None:
    opened = await new_opportunity(crm, rep, await customer_of(crm, rep))
    url = f"/opportunities/{opened['id']}"
    patched = await crm.client.patch(url, json={"probability": 15}, headers=rep)
    assert patched.json()["probability"] == 15
    chosen = await move(crm, opened["id"], "stage:proposal", rep, {"probability": 40})
    assert chosen.json()["probability"] == 40
    followed = await move(crm, opened["id"], "stage:negotiation", rep)
    assert followed.json()["probability"] == 75
    back = await move(crm, opened["id"], "stage:qualification", rep)
    assert back.json()["probability"] == 20


async def test_patch_changes_terms_but_never_the_stage(crm: Crm, rep: dict[str, str]) -> None:
    opened = await new_opportunity(crm, rep, await customer_of(crm, rep))
    url = f"/opportunities/{opened['id']}"
    other_customer = await customer_of(crm, rep, name="Beta AG")
    changed = await crm.client.patch(
        url,
        json={
            "name": "Acme: racking and shelves",
            "amount": "15000.50",
            "expected_close_date": "2027-01-31",
            "customer_id": other_customer,
            "currency": "EUR",
        },
        headers=rep,
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    assert (
        changed.json()
        | {
            "name": "Acme: racking and shelves",
            "amount": "15000.50",
            "expected_close_date": "2027-01-31",
            "customer_id": other_customer,
            "stage": "prospecting",
        }
        == changed.json()
    )
    for body, field in (
        ({"stage": "won"}, "stage"),
        ({"closed_at": "2026-01-01T00:00:00Z"}, "closed_at"),
        ({"currency": "USD"}, "currency"),
        ({"customer_id": str(uuid.uuid4())}, "customer_id"),
        ({"amount": "-5.00"}, "amount"),
    ):
        refused = await crm.client.patch(url, json=body, headers=rep)
        assert refused.status_code == 422, body
        assert refused.json()["errors"][0]["field"] == field, body
    assert (await crm.client.get(url, headers=rep)).json()["version"] == 2


async def test_a_stale_if_match_is_412_and_changes_nothing(crm: Crm, rep: dict[str, str]) -> None:
    opened = await new_opportunity(crm, rep, await customer_of(crm, rep))
    url = f"/opportunities/{opened['id']}"
    assert (await crm.client.patch(url, json={"amount": "1.00"}, headers=rep)).status_code == 200
    stale = {**rep, "If-Match": '"1"'}
    patched = await crm.client.patch(url, json={"amount": "2.00"}, headers=stale)
    assert patched.status_code == 412
    assert patched.json()["current_version"] == 2
    for route in ("stage:proposal", "win", "lose"):
        assert (await move(crm, opened["id"], route, stale)).status_code == 412, route
    after = (await crm.client.get(url, headers=rep)).json()
    assert (after["amount"], after["stage"], after["version"]) == ("1.00", "prospecting", 2)
    assert [e for e in await crm.events() if e["type"].startswith("crm.opportunity.")] == []


async def test_an_accepted_quote_wins_the_opportunity_once(
    crm: Crm, crm_settings: Settings, rep: dict[str, str]
) -> None:
    customer_id = await customer_of(crm, rep)
    opened = await new_opportunity(crm, rep, customer_id, stage="negotiation")
    lost = await new_opportunity(crm, rep, customer_id)
    await move(crm, lost["id"], "lose", rep)
    quote_id = uuid.uuid4()
    sessions = session_factory(crm.engine)

    for _ in range(2):  # a second acceptance finds it won already and leaves it
        async with UnitOfWork(sessions, crm_settings) as uow:
            await win_for_accepted_quote(uow, uuid.UUID(opened["id"]), quote_id)
    won = (await crm.client.get(f"/opportunities/{opened['id']}", headers=rep)).json()
    assert (won["stage"], won["probability"], won["version"]) == ("won", 100, 2)
    [event] = await crm.events("crm.opportunity.won.v1")
    assert event["data"]["quote_id"] == str(quote_id)
    assert event["data"]["previous_stage"] == "negotiation"
    assert event["actor"] == "crm-service"

    lost_before = (await crm.client.get(f"/opportunities/{lost['id']}", headers=rep)).json()
    with pytest.raises(Conflict) as refused:
        async with UnitOfWork(sessions, crm_settings) as uow:
            await win_for_accepted_quote(uow, uuid.UUID(lost["id"]), quote_id)
    assert (refused.value.extra["current_status"], refused.value.extra["allowed"]) == ("lost", [])
    after = await crm.client.get(f"/opportunities/{lost['id']}", headers=rep)
    assert after.json() == lost_before
    assert len(await crm.events("crm.opportunity.won.v1")) == 1


async def test_a_quoted_opportunity_keeps_its_customer(crm: Crm, rep: dict[str, str]) -> None:
    await crm.product("SKU-1", "100.00")
    customer_id = await customer_of(crm, rep)
    other_id = await customer_of(crm, rep, "Globex AG")
    opened = await new_opportunity(crm, rep, customer_id)
    unquoted = await new_opportunity(crm, rep, customer_id)
    quote = await crm.client.post(
        "/quotes",
        json={
            "customer_id": customer_id,
            "opportunity_id": opened["id"],
            "lines": [{"sku": "SKU-1", "quantity": 1}],
        },
        headers=rep,
    )
    assert quote.status_code == 201, quote.text

    moved = await crm.client.patch(
        f"/opportunities/{opened['id']}", json={"customer_id": other_id}, headers=rep
    )
    assert moved.status_code == 409, moved.text
    assert moved.headers["content-type"] == "application/problem+json"
    kept = (await crm.client.get(f"/opportunities/{opened['id']}", headers=rep)).json()
    assert (kept["customer_id"], kept["version"]) == (customer_id, opened["version"])
    # Without quotes, the deal may still move to another customer.
    free = await crm.client.patch(
        f"/opportunities/{unquoted['id']}", json={"customer_id": other_id}, headers=rep
    )
    assert free.status_code == 200, free.text
    assert free.json()["customer_id"] == other_id


# -- lists --------------------------------------------------------------------------------


async def test_lists_filter_by_stage_owner_customer_search_and_sort_by_amount(
    crm: Crm, sales_rep: uuid.UUID, rep: dict[str, str]
) -> None:
    other = await crm.hire("sales")
    theirs = crm.headers("sales", other)
    acme = await customer_of(crm, rep)
    beta = await customer_of(crm, rep, name="Beta AG")
    small = await new_opportunity(crm, rep, acme, name="Acme small", amount="100.00")
    big = await new_opportunity(crm, rep, beta, name="Beta big", amount="9000.00", stage="proposal")
    middle = await new_opportunity(crm, theirs, acme, name="acme middle", amount="500.00")
    await move(crm, middle["id"], "win", theirs)

    async def ids(**params: str | list[str]) -> list[str]:
        response = await crm.client.get("/opportunities", params=params, headers=rep)
        assert response.status_code == 200, response.text
        return [o["id"] for o in response.json()["items"]]

    assert await ids() == [middle["id"], big["id"], small["id"]]
    assert await ids(stage=["won", "proposal"]) == [middle["id"], big["id"]]
    assert await ids(owner_id=str(sales_rep)) == [big["id"], small["id"]]
    assert await ids(customer_id=acme) == [middle["id"], small["id"]]
    assert await ids(q="ACME") == [middle["id"], small["id"]]
    assert await ids(sort="amount") == [small["id"], middle["id"], big["id"]]
    assert await ids(sort="-amount") == [big["id"], middle["id"], small["id"]]
    assert await ids(sort="name") == [middle["id"], small["id"], big["id"]]
    assert await ids(created_from=big["created_at"]) == [middle["id"], big["id"]]
    for bad in ({"stage": "closed"}, {"sort": "probability"}, {"limit": "0"}):
        response = await crm.client.get("/opportunities", params=bad, headers=rep)
        assert response.status_code == 422, bad


@pytest.mark.parametrize("sort", ["-amount", "amount", "-created_at"])
async def test_paging_is_stable_while_opportunities_are_added(
    crm: Crm, rep: dict[str, str], sort: str
) -> None:
    customer_id = await customer_of(crm, rep)
    amounts = ("10.00", "20.50", "20.50", "300.00", "4000.00", "50000.99")
    existing = {
        (await new_opportunity(crm, rep, customer_id, amount=amount))["id"] for amount in amounts
    }
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(20):
        params = {"limit": "2", "sort": sort, **({"cursor": cursor} if cursor else {})}
        response = await crm.client.get("/opportunities", params=params, headers=rep)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [o["id"] for o in page["items"]]
        for amount in ("5.00", "20.50", "99999.00"):
            await new_opportunity(crm, rep, customer_id, amount=amount)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "a row was listed twice"
    assert existing <= set(seen), "a row that existed at the start was skipped"


# -- who may do what ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["support", "warehouse", "finance", "hr"])
async def test_roles_outside_sales_may_not_use_opportunities(
    crm: Crm, rep: dict[str, str], role: str
) -> None:
    customer_id = await customer_of(crm, rep)
    opened = await new_opportunity(crm, rep, customer_id)
    headers = crm.headers(role, await crm.hire(role))
    url = f"/opportunities/{opened['id']}"
    calls = [
        await crm.client.get("/opportunities", headers=headers),
        await crm.client.get(url, headers=headers),
        await crm.client.post("/opportunities", json=deal(customer_id), headers=headers),
        await crm.client.patch(url, json={"amount": "1.00"}, headers=headers),
        *[
            await move(crm, opened["id"], route, headers)
            for route in ("stage:proposal", "win", "lose")
        ],
    ]
    assert [call.status_code for call in calls] == [403] * len(calls)
    assert (await crm.client.get(url, headers=rep)).json() == opened
    listed = await crm.client.get("/opportunities", headers=rep)
    assert [o["id"] for o in listed.json()["items"]] == [opened["id"]]
    assert [e for e in await crm.events() if e["type"].startswith("crm.opportunity.")] == []


async def test_sales_read_every_opportunity_but_change_only_their_own(
    crm: Crm, rep: dict[str, str]
) -> None:
    other = crm.headers("sales", await crm.hire("sales"))
    opened = await new_opportunity(crm, other, await customer_of(crm, other))
    url = f"/opportunities/{opened['id']}"
    assert (await crm.client.get(url, headers=rep)).status_code == 200
    refused = [
        await crm.client.patch(url, json={"amount": "1.00"}, headers=rep),
        *[await move(crm, opened["id"], route, rep) for route in ("stage:proposal", "win", "lose")],
    ]
    assert [response.status_code for response in refused] == [403] * len(refused)
    assert (await crm.client.get(url, headers=rep)).json() == opened
    assert [e for e in await crm.events() if e["type"].startswith("crm.opportunity.")] == []


@pytest.mark.parametrize("role", ["sales_manager", "admin"])
async def test_managers_and_admins_change_and_move_anyones_opportunity(
    crm: Crm, rep: dict[str, str], role: str
) -> None:
    boss = crm.headers(role, await crm.hire(role))
    customer_id = await customer_of(crm, rep)
    first = await new_opportunity(crm, rep, customer_id)
    url = f"/opportunities/{first['id']}"
    changed = await crm.client.patch(url, json={"amount": "1.00"}, headers=boss)
    assert changed.status_code == 200, changed.text
    assert changed.json()["amount"] == "1.00"
    assert (await move(crm, first["id"], "stage:proposal", boss)).json()["stage"] == "proposal"
    won = await move(crm, first["id"], "win", boss)
    assert won.status_code == 200, won.text
    assert (won.json()["stage"], won.json()["amount"], won.json()["version"]) == ("won", "1.00", 4)
    second = await new_opportunity(crm, rep, customer_id)
    lost = await move(crm, second["id"], "lose", boss)
    assert lost.status_code == 200, lost.text
    assert lost.json()["stage"] == "lost"
    assert [e["subject"] for e in await crm.events("crm.opportunity.won.v1")] == [first["id"]]
    assert [e["subject"] for e in await crm.events("crm.opportunity.lost.v1")] == [second["id"]]


async def test_sales_may_only_give_opportunities_to_themselves(
    crm: Crm, sales_rep: uuid.UUID, rep: dict[str, str]
) -> None:
    other = await crm.hire("sales")
    customer_id = await customer_of(crm, rep)
    refused = await crm.client.post(
        "/opportunities", json=deal(customer_id, owner_id=str(other)), headers=rep
    )
    assert refused.status_code == 403
    assert refused.json()["errors"] == [
        {"field": "owner_id", "message": "not allowed for your role"}
    ]
    assert (await crm.client.get("/opportunities", headers=rep)).json()["items"] == []
    opened = await new_opportunity(crm, rep, customer_id, owner_id=str(sales_rep))
    url = f"/opportunities/{opened['id']}"
    handed = await crm.client.patch(url, json={"owner_id": str(other)}, headers=rep)
    assert handed.status_code == 403
    assert handed.json()["errors"][0]["field"] == "owner_id"
    assert (await crm.client.get(url, headers=rep)).json() == opened
    boss = crm.headers("sales_manager", await crm.hire("sales_manager"))
    assigned = await crm.client.patch(url, json={"owner_id": str(other)}, headers=boss)
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["owner_id"] == str(other)
    supporter = await crm.hire("support")
    ineligible = await crm.client.patch(url, json={"owner_id": str(supporter)}, headers=boss)
    assert ineligible.status_code == 422
    assert ineligible.json()["errors"][0]["field"] == "owner_id"
    assert (await crm.client.get(url, headers=rep)).json() == assigned.json()
