"""The lead list screens, on SQLite and PostgreSQL: leads by source (repeatable, as
written) and sorted by their last change."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api

SOURCES = ("web", "trade fair", None, "web", "referral", "trade fair", "web", "Web")


@pytest.fixture
async def rep(crm: Crm, sales_rep: uuid.UUID) -> dict[str, str]:
    return crm.headers("sales", sales_rep)


@pytest.fixture
async def leads(crm: Crm, rep: dict[str, str]) -> list[dict[str, Any]]:
    created = []
    for number, source in enumerate(SOURCES, start=1):
        body = {
            "name": f"Person {number}",
            "email": f"person{number}@lead{number}.example",
            **({"source": source} if source else {}),
        }
        response = await crm.client.post("/leads", json=body, headers=rep)
        assert response.status_code == 201, response.text
        created.append(response.json())
    return created


async def walk(crm: Crm, headers: dict[str, str], **params: str | list[str]) -> list[dict]:
    """The leads of every page, two at a time."""
    seen: list[dict] = []
    cursor: str | None = None
    for _ in range(20):
        query = {"limit": "2", **params, **({"cursor": cursor} if cursor else {})}
        response = await crm.client.get("/leads", params=query, headers=headers)
        assert response.status_code == 200, response.text
        seen += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the pages never ended")


def ordered(leads: list[dict[str, Any]], field: str, descending: bool) -> list[str]:
    def key(lead: dict[str, Any]) -> tuple[datetime, uuid.UUID]:
        return datetime.fromisoformat(lead[field]), uuid.UUID(lead["id"])

    return [lead["id"] for lead in sorted(leads, key=key, reverse=descending)]


async def test_leads_filter_by_any_of_several_sources_across_pages(
    crm: Crm, rep: dict[str, str], leads: list[dict[str, Any]]
) -> None:
    wanted = [lead for lead in leads if lead["source"] in ("web", "trade fair")]
    got = await walk(crm, rep, source=["web", "trade fair"])
    assert [lead["id"] for lead in got] == ordered(wanted, "created_at", descending=True)
    assert [lead["source"] for lead in await walk(crm, rep, source="Web")] == ["Web"]
    assert await walk(crm, rep, source="email") == []


@pytest.mark.parametrize("sort", ["updated_at", "-updated_at"])
async def test_leads_sort_by_their_last_change_across_pages(
    crm: Crm, rep: dict[str, str], leads: list[dict[str, Any]], sort: str
) -> None:
    for lead in (leads[5], leads[0], leads[3]):
        changed = await crm.client.patch(
            f"/leads/{lead['id']}", json={"phone": "+49 30 1234"}, headers=rep
        )
        assert changed.status_code == 200, changed.text
    current = (await crm.client.get("/leads", params={"limit": "200"}, headers=rep)).json()
    expected = ordered(current["items"], "updated_at", descending=sort.startswith("-"))
    assert [lead["id"] for lead in await walk(crm, rep, sort=sort)] == expected
    if sort.startswith("-"):
        assert expected[:3] == [leads[3]["id"], leads[0]["id"], leads[5]["id"]]


@pytest.mark.parametrize(
    ("name", "value"), [("source", ""), ("source", "x" * 51), ("sort", "source")]
)
async def test_bad_values_are_422_naming_the_parameter(
    crm: Crm, rep: dict[str, str], name: str, value: str
) -> None:
    response = await crm.client.get("/leads", params={name: value}, headers=rep)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] in (f"query.{name}", f"query.{name}.0")  # a repeatable one: its 1st


async def test_the_document_describes_the_source_filter_and_sort(crm: Crm) -> None:
    document = (await crm.client.get("/openapi.json")).json()
    parameters = {p["name"]: p for p in document["paths"]["/leads"]["get"]["parameters"]}
    assert "`updated_at`" in parameters["sort"]["description"]
    assert parameters["source"]["description"]
    assert parameters["source"]["schema"]["anyOf"][0]["type"] == "array"
