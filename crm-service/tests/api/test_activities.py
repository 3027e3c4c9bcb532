"""Activities through the HTTP API, on SQLite and PostgreSQL: what they are about, where
they happened, who may change them, listing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api

TARGETS = ("customer_id", "lead_id", "opportunity_id")


@pytest.fixture
async def customer_id(crm: Crm, sales_rep: uuid.UUID) -> str:
    response = await crm.client.post(
        "/customers",
        json={"kind": "company", "name": "Acme GmbH"},
        headers=crm.headers("sales", sales_rep),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def new_lead(crm: Crm, owner: uuid.UUID) -> str:
    response = await crm.client.post(
        "/leads", json={"name": "Jana Novak"}, headers=crm.headers("sales", owner)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def new_opportunity(crm: Crm, owner: uuid.UUID, customer_id: str) -> str:
    response = await crm.client.post(
        "/opportunities",
        json={"name": "40 pallets", "customer_id": customer_id, "amount": "12000.00"},
        headers=crm.headers("sales", owner),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def call(**overrides: Any) -> dict[str, Any]:
    return {"kind": "call", "subject": "Follow-up", "body": "They want a quote.", **overrides}


async def log(crm: Crm, role: str, employee: uuid.UUID | None, **body: Any) -> dict:
    response = await crm.client.post(
        "/activities", json=call(**body), headers=crm.headers(role, employee)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def listed(crm: Crm) -> list[dict[str, Any]]:
    """Every activity, as an administrator lists them."""
    response = await crm.client.get("/activities", headers=crm.headers("admin"))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_sales_logs_a_visit_they_own_and_nothing_is_published(
    crm: Crm, sales_rep: uuid.UUID, customer_id: str
) -> None:
    events_before = await crm.events()
    before = datetime.now(UTC)
    response = await crm.client.post(
        "/activities",
        json=call(
            kind="visit",
            customer_id=customer_id,
            location={"latitude": 52.5200081, "longitude": -13.4049544},
        ),
        headers=crm.headers("sales", sales_rep),
    )
    assert response.status_code == 201, response.text
    activity = response.json()
    assert activity["kind"] == "visit"
    assert activity["customer_id"] == customer_id
    assert activity["lead_id"] is None
    assert activity["opportunity_id"] is None
    assert activity["owner_id"] == str(sales_rep)
    assert activity["author"] == f"user-sales-{sales_rep}"
    assert activity["location"] == {"latitude": 52.520008, "longitude": -13.404954}
    assert before <= at(activity["occurred_at"]) <= datetime.now(UTC)
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/activities/{activity['id']}"
    assert await crm.events() == events_before
    fetched = await crm.client.get(f"/activities/{activity['id']}", headers=crm.headers("support"))
    assert fetched.status_code == 200
    assert fetched.json() == activity


async def test_activities_on_leads_and_opportunities_keep_the_given_time(
    crm: Crm, sales_rep: uuid.UUID, customer_id: str
) -> None:
    lead_id = await new_lead(crm, sales_rep)
    opportunity_id = await new_opportunity(crm, sales_rep, customer_id)
    on_lead = await log(
        crm, "sales", sales_rep, lead_id=lead_id, occurred_at="2026-11-19T10:00:00+01:00"
    )
    assert on_lead["lead_id"] == lead_id
    assert at(on_lead["occurred_at"]) == datetime(2026, 11, 19, 9, tzinfo=UTC)
    on_opportunity = await log(crm, "admin", None, opportunity_id=opportunity_id, kind="note")
    assert on_opportunity["opportunity_id"] == opportunity_id
    assert on_opportunity["owner_id"] is None
    assert on_opportunity["author"] == "user-admin-none"


async def test_a_time_sent_with_an_offset_reads_the_same_in_every_answer(
    crm: Crm, sales_rep: uuid.UUID, customer_id: str
) -> None:
    headers = crm.headers("sales", sales_rep)

    logged = await log(
        crm, "sales", sales_rep, customer_id=customer_id, occurred_at="2026-11-19T10:00:00+01:00"
    )
    changed = await crm.client.patch(
        f"/activities/{logged['id']}",
        json={"occurred_at": "2026-11-20T07:30:00-03:00"},
        headers=headers,
    )

    assert logged["occurred_at"] == "2026-11-19T09:00:00Z"
    assert changed.status_code == 200, changed.text
    assert changed.json()["occurred_at"] == "2026-11-20T10:30:00Z"
    read = await crm.client.get(f"/activities/{logged['id']}", headers=headers)
    assert read.json() == changed.json()
    assert [item["occurred_at"] for item in await listed(crm)] == ["2026-11-20T10:30:00Z"]


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"], ids=["after", "before"]
)
async def test_a_time_beyond_the_calendar_in_utc_is_422_naming_it(
    crm: Crm, sales_rep: uuid.UUID, customer_id: str, moment: str
) -> None:
    headers = crm.headers("sales", sales_rep)
    logged = await log(crm, "sales", sales_rep, customer_id=customer_id)

    created = await crm.client.post(
        "/activities", json=call(customer_id=customer_id, occurred_at=moment), headers=headers
    )
    changed = await crm.client.patch(
        f"/activities/{logged['id']}", json={"occurred_at": moment}, headers=headers
    )

    for refused in (created, changed):
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert [error["field"] for error in refused.json()["errors"]] == ["occurred_at"]
    assert await listed(crm) == [logged]


@pytest.mark.parametrize(
    "targets",
    [(), ("customer_id", "lead_id"), ("customer_id", "opportunity_id"), TARGETS],
)
async def test_an_activity_is_about_exactly_one_record(
    crm: Crm, sales_rep: uuid.UUID, customer_id: str, targets: tuple[str, ...]
) -> None:
    ids = {
        "customer_id": customer_id,
        "lead_id": await new_lead(crm, sales_rep),
        "opportunity_id": await new_opportunity(crm, sales_rep, customer_id),
    }
    response = await crm.client.post(
        "/activities",
        json=call(**{target: ids[target] for target in targets}),
        headers=crm.headers("sales", sales_rep),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == set(targets or TARGETS)
    listed = await crm.client.get("/activities", headers=crm.headers("sales", sales_rep))
    assert listed.json()["items"] == []


@pytest.mark.parametrize("target", TARGETS)
async def test_an_unknown_target_is_422_naming_it(crm: Crm, target: str) -> None:
    response = await crm.client.post(
        "/activities", json=call(**{target: str(uuid.uuid4())}), headers=crm.headers("admin")
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": target, "message": f"no such {target.removesuffix('_id')}"}
    ]
    assert await listed(crm) == []


@pytest.mark.parametrize(
    ("location", "field"),
    [
        ({"latitude": 90.0000001, "longitude": 0}, "location.latitude"),
        ({"latitude": -91, "longitude": 0}, "location.latitude"),
        ({"latitude": 0, "longitude": 180.5}, "location.longitude"),
        ({"latitude": 0, "longitude": -181}, "location.longitude"),
        ({"latitude": 10}, "location.longitude"),
        ({"latitude": 1, "longitude": 2, "altitude": 3}, "location.altitude"),
        # Numbers are JSON numbers: a string or a boolean is no coordinate.
        ({"latitude": "52.5", "longitude": 13.4}, "location.latitude"),
        ({"latitude": 52.5, "longitude": True}, "location.longitude"),
    ],
)
async def test_a_location_must_be_a_point_on_earth(
    crm: Crm, customer_id: str, location: dict[str, object], field: str
) -> None:
    response = await crm.client.post(
        "/activities",
        json=call(customer_id=customer_id, location=location),
        headers=crm.headers("admin"),
    )
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert await listed(crm) == []


async def test_the_poles_and_the_date_line_are_on_earth(crm: Crm, customer_id: str) -> None:
    for latitude, longitude in ((90, 180), (-90, -180)):
        activity = await log(
            crm,
            "admin",
            None,
            customer_id=customer_id,
            location={"latitude": latitude, "longitude": longitude},
        )
        assert activity["location"] == {"latitude": latitude, "longitude": longitude}


async def test_occurred_at_needs_a_time_zone(crm: Crm, customer_id: str) -> None:
    response = await crm.client.post(
        "/activities",
        json=call(customer_id=customer_id, occurred_at="2026-11-19T10:00:00"),
        headers=crm.headers("admin"),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "occurred_at"
    assert await listed(crm) == []


async def test_sales_change_and_delete_only_their_own_activities(
    crm: Crm, sales_rep: uuid.UUID, customer_id: str
) -> None:
    colleague = await crm.hire("sales")
    mine = await log(crm, "sales", sales_rep, customer_id=customer_id)
    url = f"/activities/{mine['id']}"
    theirs = crm.headers("sales", colleague)
    assert (await crm.client.patch(url, json={"body": "x"}, headers=theirs)).status_code == 403
    assert (await crm.client.delete(url, headers=theirs)).status_code == 403
    assert (await crm.client.get(url, headers=theirs)).json() == mine
    own = crm.headers("sales", sales_rep)
    changed = await crm.client.patch(
        url,
        json={
            "kind": "meeting",
            "subject": "Kick-off",
            "location": {"latitude": 1, "longitude": 2},
        },
        headers={**own, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    assert (changed.json()["kind"], changed.json()["subject"]) == ("meeting", "Kick-off")
    assert changed.json()["location"] == {"latitude": 1, "longitude": 2}
    cleared = await crm.client.patch(url, json={"location": None}, headers=own)
    assert cleared.json()["location"] is None
    for role in ("sales_manager", "support", "admin"):
        by_role = await crm.client.patch(
            url, json={"body": f"checked by {role}"}, headers=crm.headers(role, None)
        )
        assert by_role.status_code == 200, role
        assert by_role.json()["body"] == f"checked by {role}"
    assert (await crm.client.delete(url, headers=own)).status_code == 204
    assert (await crm.client.get(url, headers=own)).status_code == 404
    assert (await crm.client.delete(url, headers=own)).status_code == 404
    other = await log(crm, "sales", colleague, customer_id=customer_id)
    managed = await crm.client.delete(
        f"/activities/{other['id']}", headers=crm.headers("sales_manager")
    )
    assert managed.status_code == 204


async def test_what_an_activity_is_about_cannot_be_changed(
    crm: Crm, sales_rep: uuid.UUID, customer_id: str
) -> None:
    activity = await log(crm, "sales", sales_rep, customer_id=customer_id)
    for body in (
        {"customer_id": str(uuid.uuid4())},
        {"owner_id": str(uuid.uuid4())},
        {"occurred_at": "2026-11-19T10:00:00"},
    ):
        response = await crm.client.patch(
            f"/activities/{activity['id']}", json=body, headers=crm.headers("sales", sales_rep)
        )
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == next(iter(body))
    unchanged = await crm.client.get(f"/activities/{activity['id']}", headers=crm.headers("admin"))
    assert unchanged.json() == activity


async def test_a_stale_if_match_is_412_on_change_and_delete(
    crm: Crm, sales_rep: uuid.UUID, customer_id: str
) -> None:
    activity = await log(crm, "sales", sales_rep, customer_id=customer_id)
    url, headers = f"/activities/{activity['id']}", crm.headers("sales", sales_rep)
    assert (await crm.client.patch(url, json={"body": "v2"}, headers=headers)).is_success
    stale = {**headers, "If-Match": '"1"'}
    response = await crm.client.patch(url, json={"body": "lost"}, headers=stale)
    assert response.status_code == 412
    assert response.json()["current_version"] == 2
    assert (await crm.client.delete(url, headers=stale)).status_code == 412
    assert (await crm.client.get(url, headers=headers)).json()["body"] == "v2"


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("admin", 200, 201),
        ("sales_manager", 200, 201),
        ("sales", 200, 201),
        ("support", 200, 201),
        ("finance", 403, 403),
        ("warehouse", 403, 403),
        ("hr", 403, 403),
    ],
)
async def test_each_role_reads_and_logs_activities_as_the_table_says(
    crm: Crm, customer_id: str, role: str, read: int, write: int
) -> None:
    existing = await log(crm, "admin", None, customer_id=customer_id)
    headers = crm.headers(role, await crm.hire(role))
    assert (await crm.client.get("/activities", headers=headers)).status_code == read
    url = f"/activities/{existing['id']}"
    assert (await crm.client.get(url, headers=headers)).status_code == read
    created = await crm.client.post(
        "/activities", json=call(customer_id=customer_id), headers=headers
    )
    assert created.status_code == write, created.text
    # Sales own what they log, not what others logged.
    change = 403 if role in ("sales", "finance", "warehouse", "hr") else 200
    assert (await crm.client.patch(url, json={"body": "x"}, headers=headers)).status_code == change
    delete = 403 if change == 403 else 204
    assert (await crm.client.delete(url, headers=headers)).status_code == delete


async def test_the_list_filters_and_pages(crm: Crm, sales_rep: uuid.UUID, customer_id: str) -> None:
    colleague = await crm.hire("sales")
    lead_id = await new_lead(crm, sales_rep)
    opportunity_id = await new_opportunity(crm, sales_rep, customer_id)
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)

    async def logged(days: int, employee: uuid.UUID, **body: Any) -> str:
        when = (base + timedelta(days=days)).isoformat()
        return str((await log(crm, "sales", employee, occurred_at=when, **body))["id"])

    first = await logged(0, sales_rep, customer_id=customer_id)
    second = await logged(1, colleague, customer_id=customer_id, kind="email")
    third = await logged(2, sales_rep, lead_id=lead_id, kind="meeting")
    fourth = await logged(3, sales_rep, opportunity_id=opportunity_id, kind="note")
    headers = crm.headers("support")

    async def ids(**params: Any) -> list[str]:
        response = await crm.client.get("/activities", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids() == [fourth, third, second, first]
    assert await ids(sort="occurred_at") == [first, second, third, fourth]
    assert await ids(sort="-created_at") == [fourth, third, second, first]
    assert await ids(customer_id=customer_id) == [second, first]
    assert await ids(lead_id=lead_id) == [third]
    assert await ids(opportunity_id=opportunity_id) == [fourth]
    assert await ids(kind=["email", "note"]) == [fourth, second]
    assert await ids(owner_id=str(colleague)) == [second]
    assert await ids(
        occurred_from=(base + timedelta(days=1)).isoformat(),
        occurred_to=(base + timedelta(days=3)).isoformat(),
    ) == [third, second]
    # Days of the company's calendar (UTC here): from the first, up to the end of the last.
    assert await ids(
        occurred_from=(base + timedelta(days=1)).date().isoformat(),
        occurred_to=(base + timedelta(days=2)).date().isoformat(),
    ) == [third, second]
    for bad in ({"kind": "lunch"}, {"sort": "subject"}, {"occurred_from": "2026-11-01T09:00"}):
        response = await crm.client.get("/activities", params=bad, headers=headers)
        assert response.status_code == 422, bad

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await crm.client.get("/activities", params=params, headers=headers)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # Logged meanwhile, newer than everything listed: it belongs before the cursor.
        await log(crm, "sales", sales_rep, customer_id=customer_id)
    assert seen == [fourth, third, second, first]


async def test_unknown_activities_are_404(crm: Crm) -> None:
    headers = crm.headers("admin")
    url = f"/activities/{uuid.uuid4()}"
    assert (await crm.client.get(url, headers=headers)).status_code == 404
    assert (await crm.client.patch(url, json={"body": "x"}, headers=headers)).status_code == 404
    assert (await crm.client.delete(url, headers=headers)).status_code == 404
