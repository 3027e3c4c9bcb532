"""Support inquiries through the HTTP API, on SQLite and PostgreSQL: life cycle, SLA,
assignees, events, listing and who may do what."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crm.config import Settings
from tests.support.crm import Crm, ErpOrder

pytestmark = pytest.mark.api

# Hours per priority, set apart from the defaults so the tests prove the setting is used;
# an urgent case is due at once, so it is overdue as soon as it exists.
SLA_HOURS = {"low": 96, "normal": 24, "high": 4, "urgent": 0}

# How to bring a new inquiry into each status.
PATH_TO = {
    "new": [],
    "open": ["open"],
    "pending": ["open", "pend"],
    "resolved": ["resolve"],
    "closed": ["resolve", "close"],
}
ACTIONS = ("open", "pend", "resume", "resolve", "reopen", "close")
LEGAL = {
    ("new", "open"): "open",
    ("new", "resolve"): "resolved",
    ("open", "pend"): "pending",
    ("open", "resolve"): "resolved",
    ("pending", "resume"): "open",
    ("pending", "resolve"): "resolved",
    ("resolved", "reopen"): "open",
    ("resolved", "close"): "closed",
}
ALLOWED = {
    "new": ["open", "resolve"],
    "open": ["pend", "resolve"],
    "pending": ["resume", "resolve"],
    "resolved": ["reopen", "close"],
    "closed": [],
}


@pytest.fixture
def crm_settings(crm_settings: Settings) -> Settings:
    return crm_settings.model_copy(update={"sla_hours": SLA_HOURS})


@pytest.fixture
async def agent(crm: Crm) -> uuid.UUID:
    return await crm.hire("support", name="Sue Support")


@pytest.fixture
async def customer_id(crm: Crm, sales_rep: uuid.UUID) -> str:
    return await new_customer(crm, sales_rep, "Acme GmbH")


async def new_customer(crm: Crm, owner: uuid.UUID, name: str) -> str:
    response = await crm.client.post(
        "/customers", json={"kind": "company", "name": name}, headers=crm.headers("sales", owner)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def inquiry(customer_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "channel": "email",
        "subject": "Delivery arrived damaged",
        "body": "Two of five units cracked.",
        "customer_id": customer_id,
        **overrides,
    }


async def open_one(crm: Crm, agent: uuid.UUID, customer_id: str, **overrides: Any) -> dict:
    response = await crm.client.post(
        "/inquiries", json=inquiry(customer_id, **overrides), headers=crm.headers("support", agent)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def move(crm: Crm, agent: uuid.UUID, inquiry_id: str, action: str) -> Any:
    body = {"resolution": "Replacement shipped."} if action == "resolve" else None
    return await crm.client.post(
        f"/inquiries/{inquiry_id}/{action}", json=body, headers=crm.headers("support", agent)
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_support_opens_an_inquiry_assigned_to_themselves_and_it_is_published(
    crm: Crm, agent: uuid.UUID, customer_id: str
) -> None:
    order_id = str(uuid.uuid4())
    before = datetime.now(UTC)
    response = await crm.client.post(
        "/inquiries",
        json=inquiry(customer_id, order_id=order_id),
        headers=crm.headers("support", agent),
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "new"
    assert created["priority"] == "normal"
    assert created["assignee_id"] == str(agent)
    assert created["order_id"] == order_id
    assert created["overdue"] is False
    assert before <= at(created["created_at"]) <= datetime.now(UTC)
    assert at(created["sla_due_at"]) == at(created["created_at"]) + timedelta(hours=24)
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/inquiries/{created['id']}"
    [event] = await crm.events("crm.inquiry.opened.v1")
    assert event["subject"] == created["id"]
    assert event["actor"] == f"user-support-{agent}"
    assert event["data"] == {
        "version": 1,
        "inquiry_id": created["id"],
        "customer_id": customer_id,
        "order_id": order_id,
        "assignee_id": str(agent),
        "channel": "email",
        "subject": "Delivery arrived damaged",
        "priority": "normal",
        "status": "new",
        "sla_due_at": event["data"]["sla_due_at"],
    }
    assert at(event["data"]["sla_due_at"]) == at(created["sla_due_at"])
    fetched = await crm.client.get(f"/inquiries/{created['id']}", headers=crm.headers("sales"))
    assert fetched.status_code == 200
    assert fetched.json() == created
    assert fetched.headers["etag"] == '"1"'


@pytest.mark.parametrize("priority", ["low", "normal", "high", "urgent"])
async def test_the_sla_due_time_follows_the_priority(
    crm: Crm, agent: uuid.UUID, customer_id: str, priority: str
) -> None:
    created = await open_one(crm, agent, customer_id, priority=priority)
    expected = at(created["created_at"]) + timedelta(hours=SLA_HOURS[priority])
    assert at(created["sla_due_at"]) == expected
    assert created["overdue"] is (priority == "urgent")


async def test_changing_the_priority_recomputes_the_sla_until_resolved(
    crm: Crm, agent: uuid.UUID, customer_id: str
) -> None:
    created = await open_one(crm, agent, customer_id, priority="low")
    url, headers = f"/inquiries/{created['id']}", crm.headers("support", agent)
    opened_at = at(created["created_at"])
    changed = await crm.client.patch(
        url, json={"priority": "high"}, headers={**headers, "If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    assert changed.json()["priority"] == "high"
    assert at(changed.json()["sla_due_at"]) == opened_at + timedelta(hours=4)
    assert (await move(crm, agent, created["id"], "open")).json()["status"] == "open"
    pended = await move(crm, agent, created["id"], "pend")
    again = await crm.client.patch(url, json={"priority": "normal"}, headers=headers)
    assert pended.json()["status"] == "pending"
    assert at(again.json()["sla_due_at"]) == opened_at + timedelta(hours=24)
    resolved = await move(crm, agent, created["id"], "resolve")
    assert resolved.status_code == 200
    after = await crm.client.patch(url, json={"priority": "urgent"}, headers=headers)
    assert after.json()["priority"] == "urgent"
    assert at(after.json()["sla_due_at"]) == opened_at + timedelta(hours=24)
    assert after.json()["overdue"] is False


@pytest.mark.parametrize("start", list(PATH_TO))
async def test_every_action_from_each_status_moves_it_or_is_a_409(
    crm: Crm, agent: uuid.UUID, customer_id: str, start: str
) -> None:
    for action in ACTIONS:
        created = await open_one(crm, agent, customer_id)
        for step in PATH_TO[start]:
            assert (await move(crm, agent, created["id"], step)).status_code == 200
        current = (
            await crm.client.get(f"/inquiries/{created['id']}", headers=crm.headers("sales"))
        ).json()
        assert current["status"] == start
        response = await move(crm, agent, created["id"], action)
        if (start, action) in LEGAL:
            assert response.status_code == 200, (start, action, response.text)
            assert response.json()["status"] == LEGAL[start, action]
            assert response.json()["version"] == current["version"] + 1
            assert response.headers["etag"] == f'"{current["version"] + 1}"'
        else:
            assert response.status_code == 409, (start, action, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            problem = response.json()
            assert problem["current_status"] == start
            assert problem["allowed"] == ALLOWED[start]
            unchanged = await crm.client.get(
                f"/inquiries/{created['id']}", headers=crm.headers("sales")
            )
            assert unchanged.json() == current


async def test_resolving_publishes_the_resolution_and_reopening_clears_it(
    crm: Crm, agent: uuid.UUID, customer_id: str
) -> None:
    created = await open_one(crm, agent, customer_id, priority="high")
    headers = crm.headers("support", agent)
    url = f"/inquiries/{created['id']}"
    await move(crm, agent, created["id"], "open")
    await move(crm, agent, created["id"], "pend")
    missing = await crm.client.post(f"{url}/resolve", json={}, headers=headers)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "resolution"
    assert (await crm.client.get(url, headers=headers)).json()["status"] == "pending"
    resolved = await crm.client.post(
        f"{url}/resolve", json={"resolution": "Replacement shipped."}, headers=headers
    )
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert body["status"] == "resolved"
    assert body["resolution"] == "Replacement shipped."
    assert body["resolved_at"] is not None
    [event] = await crm.events("crm.inquiry.resolved.v1")
    assert event["subject"] == created["id"]
    data = event["data"]
    assert data["version"] == body["version"] == 4
    assert data["status"] == "resolved"
    assert data["previous_status"] == "pending"
    assert data["resolution"] == "Replacement shipped."
    assert at(data["resolved_at"]) == at(body["resolved_at"])
    assert data["priority"] == "high"
    assert data["assignee_id"] == str(agent)
    assert data["customer_id"] == customer_id
    reopened = (await move(crm, agent, created["id"], "reopen")).json()
    assert reopened["status"] == "open"
    assert reopened["resolution"] is None
    assert reopened["resolved_at"] is None
    await move(crm, agent, created["id"], "resolve")
    closed = (await move(crm, agent, created["id"], "close")).json()
    assert closed["status"] == "closed"
    assert closed["closed_at"] is not None
    assert len(await crm.events("crm.inquiry.resolved.v1")) == 2
    assert len(await crm.events("crm.inquiry.opened.v1")) == 1
    frozen = await crm.client.patch(url, json={"subject": "Still broken"}, headers=headers)
    assert frozen.status_code == 409
    assert frozen.json()["current_status"] == "closed"
    assert frozen.json()["allowed"] == []
    assert (await crm.client.get(url, headers=headers)).json() == closed


async def test_an_assignee_must_be_an_active_support_or_sales_employee(
    crm: Crm, agent: uuid.UUID, sales_rep: uuid.UUID, customer_id: str
) -> None:
    headers = crm.headers("support", agent)
    warehouse = await crm.hire("warehouse")
    leaver = await crm.hire("support")
    await crm.terminate(leaver, manager_id=None)
    for assignee in (uuid.uuid4(), warehouse, leaver):
        refused = await crm.client.post(
            "/inquiries", json=inquiry(customer_id, assignee_id=str(assignee)), headers=headers
        )
        assert refused.status_code == 422, assignee
        assert refused.json()["errors"][0]["field"] == "assignee_id"
    assert await crm.events("crm.inquiry.opened.v1") == []
    to_sales = await open_one(crm, agent, customer_id, assignee_id=str(sales_rep))
    assert to_sales["assignee_id"] == str(sales_rep)
    url = f"/inquiries/{to_sales['id']}"
    moved = await crm.client.patch(url, json={"assignee_id": str(warehouse)}, headers=headers)
    assert moved.status_code == 422
    assert moved.json()["errors"][0]["field"] == "assignee_id"
    assert (await crm.client.get(url, headers=headers)).json() == to_sales
    unassigned = await crm.client.patch(url, json={"assignee_id": None}, headers=headers)
    assert unassigned.status_code == 200, unassigned.text
    assert unassigned.json()["assignee_id"] is None
    manager = await crm.hire("sales_manager")
    by_manager = await crm.client.post(
        "/inquiries", json=inquiry(customer_id), headers=crm.headers("sales_manager", manager)
    )
    assert by_manager.status_code == 201, by_manager.text
    assert by_manager.json()["assignee_id"] == str(manager)
    by_admin = await crm.client.post(
        "/inquiries",
        json=inquiry(customer_id),
        headers=crm.headers("admin", await crm.hire("admin")),
    )
    assert by_admin.status_code == 201
    assert by_admin.json()["assignee_id"] is None


async def test_the_customer_must_exist_and_a_known_order_must_be_theirs(
    crm: Crm, agent: uuid.UUID, sales_rep: uuid.UUID, customer_id: str
) -> None:
    headers = crm.headers("support", agent)
    unknown = await crm.client.post("/inquiries", json=inquiry(str(uuid.uuid4())), headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "customer_id"
    other = await new_customer(crm, sales_rep, "Globex")
    their_order = ErpOrder(uuid.UUID(other))
    await crm.publish(their_order.created())
    refused = await crm.client.post(
        "/inquiries", json=inquiry(customer_id, order_id=str(their_order.order_id)), headers=headers
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "order_id"
    own_order = ErpOrder(uuid.UUID(customer_id))
    await crm.publish(own_order.created())
    accepted = await open_one(crm, agent, customer_id, order_id=str(own_order.order_id))
    assert accepted["order_id"] == str(own_order.order_id)
    relinked = await crm.client.patch(
        f"/inquiries/{accepted['id']}",
        json={"order_id": str(their_order.order_id)},
        headers=headers,
    )
    assert relinked.status_code == 422
    assert relinked.json()["errors"][0]["field"] == "order_id"
    kept = await crm.client.get(f"/inquiries/{accepted['id']}", headers=headers)
    assert kept.json() == accepted
    opened = await crm.events("crm.inquiry.opened.v1")
    assert [event["subject"] for event in opened] == [accepted["id"]]


async def test_bad_input_and_status_patches_are_422(
    crm: Crm, agent: uuid.UUID, customer_id: str
) -> None:
    headers = crm.headers("support", agent)
    bad = await crm.client.post(
        "/inquiries",
        json=inquiry(customer_id, channel="pigeon", priority="whenever", subject=""),
        headers=headers,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} >= {"channel", "priority", "subject"}
    assert (await crm.client.get("/inquiries", headers=headers)).json()["items"] == []
    created = await open_one(crm, agent, customer_id)
    for body in ({"status": "resolved"}, {"sla_due_at": "2030-01-01T00:00:00Z"}):
        response = await crm.client.patch(f"/inquiries/{created['id']}", json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == next(iter(body))
    unchanged = await crm.client.get(f"/inquiries/{created['id']}", headers=headers)
    assert unchanged.json() == created
    assert await crm.events("crm.inquiry.resolved.v1") == []


async def test_a_stale_if_match_is_412_on_changes_and_transitions(
    crm: Crm, agent: uuid.UUID, customer_id: str
) -> None:
    created = await open_one(crm, agent, customer_id)
    headers = crm.headers("support", agent)
    url = f"/inquiries/{created['id']}"
    assert (await crm.client.patch(url, json={"subject": "Cracked"}, headers=headers)).is_success
    stale = await crm.client.patch(
        url, json={"subject": "Broken"}, headers={**headers, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    stale_move = await crm.client.post(f"{url}/open", headers={**headers, "If-Match": '"1"'})
    assert stale_move.status_code == 412
    current = (await crm.client.get(url, headers=headers)).json()
    assert (current["subject"], current["status"]) == ("Cracked", "new")
    fresh = await crm.client.post(f"{url}/open", headers={**headers, "If-Match": '"2"'})
    assert fresh.status_code == 200


async def test_an_idempotency_key_replays_the_first_response(
    crm: Crm, agent: uuid.UUID, customer_id: str
) -> None:
    headers = {**crm.headers("support", agent), "Idempotency-Key": "inquiry-42"}
    first = await crm.client.post("/inquiries", json=inquiry(customer_id), headers=headers)
    again = await crm.client.post("/inquiries", json=inquiry(customer_id), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    other_body = await crm.client.post(
        "/inquiries", json=inquiry(customer_id, subject="Something else"), headers=headers
    )
    assert other_body.status_code == 422
    assert len(await crm.events("crm.inquiry.opened.v1")) == 1
    listed = await crm.client.get("/inquiries", headers=headers)
    assert [item["id"] for item in listed.json()["items"]] == [first.json()["id"]]


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("admin", 200, 201),
        ("sales_manager", 200, 201),
        ("support", 200, 201),
        ("sales", 200, 403),
        ("finance", 403, 403),
        ("warehouse", 403, 403),
        ("hr", 403, 403),
    ],
)
async def test_each_role_reads_and_works_inquiries_as_the_table_says(
    crm: Crm, agent: uuid.UUID, customer_id: str, role: str, read: int, write: int
) -> None:
    existing = await open_one(crm, agent, customer_id)
    url = f"/inquiries/{existing['id']}"
    headers = crm.headers(role, await crm.hire(role))
    assert (await crm.client.get("/inquiries", headers=headers)).status_code == read
    assert (await crm.client.get(url, headers=headers)).status_code == read
    created = await crm.client.post("/inquiries", json=inquiry(customer_id), headers=headers)
    assert created.status_code == write, created.text
    changed = await crm.client.patch(url, json={"subject": "Cracked"}, headers=headers)
    assert changed.status_code == (200 if write == 201 else 403)
    for action in ("open", "resolve"):
        response = await move_as(crm, headers, existing["id"], action)
        assert response.status_code == (200 if write == 201 else 403), action
    status = (await crm.client.get(url, headers=crm.headers("support", agent))).json()["status"]
    assert status == ("resolved" if write == 201 else "new")


async def test_a_sales_rep_works_the_inquiries_assigned_to_them_and_no_other(
    crm: Crm, agent: uuid.UUID, sales_rep: uuid.UUID, customer_id: str
) -> None:
    mine = await open_one(crm, agent, customer_id, assignee_id=str(sales_rep))
    theirs = await open_one(crm, agent, customer_id)
    rep = crm.headers("sales", sales_rep)
    url = f"/inquiries/{mine['id']}"
    changed = await crm.client.patch(url, json={"priority": "high"}, headers=rep)
    assert changed.status_code == 200, changed.text
    # Every step of the life cycle, as the assignee.
    for action in ("open", "pend", "resume", "resolve", "reopen", "resolve", "close"):
        response = await move_as(crm, rep, mine["id"], action)
        assert response.status_code == 200, (action, response.text)
    assert (await crm.client.get(url, headers=rep)).json()["status"] == "closed"
    # Another's inquiry stays theirs, and opening inquiries stays support's.
    refused = await crm.client.patch(
        f"/inquiries/{theirs['id']}", json={"priority": "high"}, headers=rep
    )
    assert refused.status_code == 403, refused.text
    assert (await move_as(crm, rep, theirs["id"], "open")).status_code == 403
    opened = await crm.client.post("/inquiries", json=inquiry(customer_id), headers=rep)
    assert opened.status_code == 403, opened.text
    untouched = await crm.client.get(f"/inquiries/{theirs['id']}", headers=rep)
    assert (untouched.json()["status"], untouched.json()["version"]) == ("new", 1)


async def move_as(crm: Crm, headers: dict[str, str], inquiry_id: str, action: str) -> Any:
    body = {"resolution": "Done."} if action == "resolve" else None
    return await crm.client.post(f"/inquiries/{inquiry_id}/{action}", json=body, headers=headers)


async def test_unknown_inquiries_are_404(crm: Crm, agent: uuid.UUID) -> None:
    headers = crm.headers("support", agent)
    url = f"/inquiries/{uuid.uuid4()}"
    assert (await crm.client.get(url, headers=headers)).status_code == 404
    assert (await crm.client.patch(url, json={"subject": "x"}, headers=headers)).status_code == 404
    response = await crm.client.post(f"{url}/open", headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_list_filters_searches_and_pages(
    crm: Crm, agent: uuid.UUID, sales_rep: uuid.UUID, customer_id: str
) -> None:
    headers = crm.headers("support", agent)
    other_customer = await new_customer(crm, sales_rep, "Globex")
    order_id = str(uuid.uuid4())
    low = await open_one(crm, agent, customer_id, priority="low", subject="Invoice question")
    urgent = await open_one(crm, agent, customer_id, priority="urgent", subject="Line down")
    high = await open_one(
        crm, agent, other_customer, priority="high", subject="Invoice copy", order_id=order_id
    )
    to_rep = await open_one(crm, agent, other_customer, assignee_id=str(sales_rep))
    await move(crm, agent, high["id"], "resolve")
    resolved_urgent = await open_one(crm, agent, customer_id, priority="urgent")
    await move(crm, agent, resolved_urgent["id"], "resolve")

    async def ids(**params: Any) -> list[str]:
        response = await crm.client.get("/inquiries", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    newest_first = [resolved_urgent["id"], to_rep["id"], high["id"], urgent["id"], low["id"]]
    assert await ids() == newest_first
    assert await ids(sort="created_at") == newest_first[::-1]
    assert await ids(customer_id=customer_id) == [resolved_urgent["id"], urgent["id"], low["id"]]
    assert await ids(status="resolved") == [resolved_urgent["id"], high["id"]]
    assert await ids(status=["new", "resolved"], priority="high") == [high["id"]]
    assert await ids(assignee_id=str(sales_rep)) == [to_rep["id"]]
    assert await ids(order_id=order_id) == [high["id"]]
    assert await ids(q="INVOICE") == [high["id"], low["id"]]
    assert await ids(q="invoice q") == [low["id"]]
    assert await ids(overdue="true") == [urgent["id"]]
    assert urgent["id"] not in await ids(overdue="false")
    assert await ids(sort="sla_due_at", status="new") == [urgent["id"], to_rep["id"], low["id"]]
    assert await ids(created_to=low["created_at"]) == []
    assert await ids(created_from=to_rep["created_at"]) == newest_first[:2]
    for bad in ({"sort": "channel"}, {"limit": "201"}, {"created_from": "2026-01-01T00:00:00"}):
        response = await crm.client.get("/inquiries", params=bad, headers=headers)
        assert response.status_code == 422, bad

    by_due_time = await ids(sort="-sla_due_at")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, "sort": "-sla_due_at"} | ({"cursor": cursor} if cursor else {})
        page = (await crm.client.get("/inquiries", params=params, headers=headers)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # Inquiries opened meanwhile fall due after every one listed so far: never shown.
        await open_one(crm, agent, customer_id, priority="low")
    assert seen == by_due_time
