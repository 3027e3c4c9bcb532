"""The inquiry list screens, on SQLite and PostgreSQL: inquiries sorted by priority in the
order of its scale (low, normal, high, urgent), not alphabetically."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command

from tests.support.crm import Crm
from tests.support.harness import alembic_config, execute

pytestmark = pytest.mark.api

SCALE = ("low", "normal", "high", "urgent")
PRIORITIES = ("normal", "urgent", "low", "high", "urgent", "normal", "low", "urgent")


@pytest.fixture
async def agent(crm: Crm) -> dict[str, str]:
    return crm.headers("support", await crm.hire("support", name="Sue Support"))


@pytest.fixture
async def inquiries(crm: Crm, agent: dict[str, str], sales_rep: uuid.UUID) -> list[dict[str, Any]]:
    customer = await crm.client.post(
        "/customers",
        json={"kind": "company", "name": "Acme GmbH"},
        headers=crm.headers("sales", sales_rep),
    )
    assert customer.status_code == 201, customer.text
    created = []
    for number, priority in enumerate(PRIORITIES, start=1):
        body = {
            "channel": "email",
            "subject": f"Case {number}",
            "customer_id": customer.json()["id"],
            "priority": priority,
        }
        response = await crm.client.post("/inquiries", json=body, headers=agent)
        assert response.status_code == 201, response.text
        created.append(response.json())
    return created


async def walk(crm: Crm, headers: dict[str, str], **params: str | list[str]) -> list[str]:
    """The ids of every page, three at a time."""
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(20):
        query = {"limit": "3", **params, **({"cursor": cursor} if cursor else {})}
        response = await crm.client.get("/inquiries", params=query, headers=headers)
        assert response.status_code == 200, response.text
        seen += [i["id"] for i in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the pages never ended")


def by_priority(inquiries: list[dict[str, Any]], descending: bool) -> list[str]:
    ordered = sorted(
        inquiries,
        key=lambda i: (SCALE.index(i["priority"]), uuid.UUID(i["id"])),
        reverse=descending,
    )
    return [i["id"] for i in ordered]


@pytest.mark.parametrize("sort", ["priority", "-priority"])
async def test_inquiries_sort_by_the_priority_scale_across_pages(
    crm: Crm, agent: dict[str, str], inquiries: list[dict[str, Any]], sort: str
) -> None:
    expected = by_priority(inquiries, descending=sort.startswith("-"))
    whole = await crm.client.get("/inquiries", params={"sort": sort}, headers=agent)
    got = whole.json()["items"]
    assert [i["id"] for i in got] == expected
    first = "urgent" if sort.startswith("-") else "low"
    assert [i["priority"] for i in got[:2]] == [first, first]
    assert await walk(crm, agent, sort=sort) == expected


async def test_the_priority_sort_combines_with_filters(
    crm: Crm, agent: dict[str, str], inquiries: list[dict[str, Any]]
) -> None:
    wanted = [i for i in inquiries if i["priority"] in ("normal", "urgent")]
    got = await walk(crm, agent, sort="-priority", priority=["normal", "urgent"])
    assert got == by_priority(wanted, descending=True)


async def test_a_cursor_of_another_sort_or_an_unknown_sort_is_422(
    crm: Crm, agent: dict[str, str], inquiries: list[dict[str, Any]]
) -> None:
    first = await crm.client.get(
        "/inquiries", params={"limit": "2", "sort": "priority"}, headers=agent
    )
    cursor = first.json()["next_cursor"]
    for params, field in (
        ({"sort": "-priority", "cursor": cursor}, "query.cursor"),
        ({"sort": "sla_due_at", "cursor": cursor}, "query.cursor"),
        ({"sort": "channel"}, "query.sort"),
    ):
        response = await crm.client.get("/inquiries", params=params, headers=agent)
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_the_document_describes_the_priority_sort(crm: Crm) -> None:
    document = (await crm.client.get("/openapi.json")).json()
    parameters = {p["name"]: p for p in document["paths"]["/inquiries"]["get"]["parameters"]}
    assert "`priority`" in parameters["sort"]["description"]


async def test_a_changed_priority_moves_the_inquiry_on_the_scale(
    crm: Crm, agent: dict[str, str], inquiries: list[dict[str, Any]]
) -> None:
    lowest = by_priority(inquiries, descending=False)[0]
    changed = await crm.client.patch(
        f"/inquiries/{lowest}", json={"priority": "urgent"}, headers=agent
    )
    assert changed.status_code == 200, changed.text
    inquiries = [{**i, "priority": "urgent"} if i["id"] == lowest else i for i in inquiries]
    assert await walk(crm, agent, sort="-priority") == by_priority(inquiries, descending=True)


async def test_inquiries_opened_before_the_sort_are_ranked_by_the_migration(
    database_url: str,
) -> None:
    config = alembic_config("crm-service", database_url)
    await asyncio.to_thread(command.upgrade, config, "0006")
    now = datetime.now(UTC)
    sqlite = database_url.startswith("sqlite")
    for priority in SCALE:
        await execute(
            database_url,
            "INSERT INTO inquiries (id, channel, subject, subject_key, priority, status, "
            "customer_id, sla_due_at, version, created_at, updated_at) VALUES (:id, 'email', "
            ":priority, :priority, :priority, 'new', :customer, :now, 1, :now, :now)",
            id=uuid.uuid4().hex if sqlite else uuid.uuid4(),
            customer=uuid.uuid4().hex if sqlite else uuid.uuid4(),
            priority=priority,
            now=now,
        )
    await asyncio.to_thread(command.upgrade, config, "head")
    ranks = await execute(database_url, "SELECT priority, priority_rank FROM inquiries")
    assert sorted(ranks, key=lambda row: row[1]) == [(p, r) for r, p in enumerate(SCALE)]
    await asyncio.to_thread(command.downgrade, config, "0006")
    assert len(await execute(database_url, "SELECT priority FROM inquiries")) == len(SCALE)
