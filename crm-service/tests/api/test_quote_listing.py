"""The quote list screens, on SQLite and PostgreSQL: quotes by the last day they are
valid (a range of days: those expiring soon) and sorted by that day or by their total."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api

# (quantity of the one line, days until valid_until): equal totals and equal days among them.
QUOTES = ((1, 10), (3, 3), (2, 3), (3, 20), (5, 1), (1, 7))


def day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


@pytest.fixture
async def rep(crm: Crm, sales_rep: uuid.UUID) -> dict[str, str]:
    await crm.product("CHAIR", "19.99", "19")
    return crm.headers("sales", sales_rep)


@pytest.fixture
async def quotes(crm: Crm, rep: dict[str, str]) -> list[dict[str, Any]]:
    customer = await crm.client.post(
        "/customers", json={"kind": "company", "name": "Acme GmbH"}, headers=rep
    )
    assert customer.status_code == 201, customer.text
    created = []
    for quantity, days in QUOTES:
        body = {
            "customer_id": customer.json()["id"],
            "lines": [{"sku": "CHAIR", "quantity": quantity}],
            "valid_until": day(days),
        }
        response = await crm.client.post("/quotes", json=body, headers=rep)
        assert response.status_code == 201, response.text
        created.append(response.json())
    return created


async def walk(crm: Crm, headers: dict[str, str], **params: str) -> list[str]:
    """The ids of every page, two at a time."""
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(20):
        query = {"limit": "2", **params, **({"cursor": cursor} if cursor else {})}
        response = await crm.client.get("/quotes", params=query, headers=headers)
        assert response.status_code == 200, response.text
        seen += [q["id"] for q in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the pages never ended")


def ordered(quotes: list[dict[str, Any]], sort: str) -> list[str]:
    """By the field, then by id, both descending for `-`."""
    field = sort.lstrip("-")

    def key(quote: dict[str, Any]) -> tuple[Any, uuid.UUID]:
        value = Decimal(quote[field]) if field == "total" else quote[field]
        return value, uuid.UUID(quote["id"])

    return [q["id"] for q in sorted(quotes, key=key, reverse=sort.startswith("-"))]


@pytest.mark.parametrize("sort", ["valid_until", "-valid_until", "total", "-total"])
async def test_quotes_sort_by_validity_and_total_across_pages(
    crm: Crm, rep: dict[str, str], quotes: list[dict[str, Any]], sort: str
) -> None:
    assert len({q["total"] for q in quotes}) < len(quotes), "the totals have no tie"
    expected = ordered(quotes, sort)
    whole = await crm.client.get("/quotes", params={"sort": sort}, headers=rep)
    assert [q["id"] for q in whole.json()["items"]] == expected
    assert await walk(crm, rep, sort=sort) == expected


async def test_quotes_expiring_soon_take_whole_days_at_both_ends(
    crm: Crm, rep: dict[str, str], quotes: list[dict[str, Any]]
) -> None:
    def valid(first: int, last: int) -> list[dict[str, Any]]:
        return [q for q in quotes if day(first) <= q["valid_until"] <= day(last)]

    soon = await walk(crm, rep, sort="valid_until", valid_until_from=day(1), valid_until_to=day(7))
    assert soon == ordered(valid(1, 7), "valid_until")
    assert len(soon) == 4
    later = await walk(crm, rep, sort="-total", valid_until_from=day(4))
    assert later == ordered(valid(4, 30), "-total")
    earlier = await walk(crm, rep, valid_until_to=day(3))
    assert sorted(earlier) == sorted(q["id"] for q in valid(0, 3))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("valid_until_from", "0"),
        ("valid_until_from", "2026-12-01T00:00:00Z"),
        ("valid_until_to", "2026-13-01"),
        ("valid_until_to", "tomorrow"),
        ("sort", "subtotal"),
    ],
)
async def test_bad_values_are_422_naming_the_parameter(
    crm: Crm, rep: dict[str, str], name: str, value: str
) -> None:
    response = await crm.client.get("/quotes", params={name: value}, headers=rep)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [f"query.{name}"]


async def test_the_document_describes_the_new_filters_and_sorts(crm: Crm) -> None:
    document = (await crm.client.get("/openapi.json")).json()
    parameters = {p["name"]: p for p in document["paths"]["/quotes"]["get"]["parameters"]}
    for sort in ("`valid_until`", "`total`"):
        assert sort in parameters["sort"]["description"]
    for name in ("valid_until_from", "valid_until_to"):
        assert parameters[name]["description"], name
        assert "date" in str(parameters[name]["schema"])
