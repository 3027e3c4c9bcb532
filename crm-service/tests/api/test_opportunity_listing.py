"""The opportunity list screens, on SQLite and PostgreSQL: deals by expected close date
(a range of days, and sorted with deals without one last) and by amount bounds."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api

CLOSE_DATES = ("2026-12-15", None, "2026-11-30", "2026-12-15", "2027-01-02", None, "2026-12-01")


@pytest.fixture
async def rep(crm: Crm, sales_rep: uuid.UUID) -> dict[str, str]:
    return crm.headers("sales", sales_rep)


@pytest.fixture
async def deals(crm: Crm, rep: dict[str, str]) -> list[dict[str, Any]]:
    """Deals closing on CLOSE_DATES (two without a date, two on one day), of amounts
    100.00, 200.00, ..."""
    customer = await crm.client.post(
        "/customers",
        json={"kind": "company", "name": "Acme GmbH", "email": "buying@acme.example"},
        headers=rep,
    )
    assert customer.status_code == 201, customer.text
    created = []
    for number, close in enumerate(CLOSE_DATES, start=1):
        body = {
            "name": f"Deal {number}",
            "customer_id": customer.json()["id"],
            "amount": f"{number * 100}.00",
            **({"expected_close_date": close} if close else {}),
        }
        response = await crm.client.post("/opportunities", json=body, headers=rep)
        assert response.status_code == 201, response.text
        created.append(response.json())
    return created


async def walk(crm: Crm, headers: dict[str, str], **params: str) -> list[str]:
    """The ids of every page, two at a time."""
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(20):
        query = {"limit": "2", **params, **({"cursor": cursor} if cursor else {})}
        response = await crm.client.get("/opportunities", params=query, headers=headers)
        assert response.status_code == 200, response.text
        seen += [o["id"] for o in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the pages never ended")


def by_close(deals: list[dict[str, Any]], descending: bool) -> list[str]:
    """Dated deals by date then id (both descending for `-`), undated ones after them."""
    dated = sorted(
        (d for d in deals if d["expected_close_date"]),
        key=lambda d: (d["expected_close_date"], uuid.UUID(d["id"])),
        reverse=descending,
    )
    undated = sorted(
        (d for d in deals if not d["expected_close_date"]),
        key=lambda d: uuid.UUID(d["id"]),
        reverse=descending,
    )
    return [d["id"] for d in dated + undated]


@pytest.mark.parametrize("sort", ["expected_close_date", "-expected_close_date"])
async def test_deals_sort_by_close_date_with_undated_ones_last_across_pages(
    crm: Crm, rep: dict[str, str], deals: list[dict[str, Any]], sort: str
) -> None:
    expected = by_close(deals, descending=sort.startswith("-"))
    whole = await crm.client.get("/opportunities", params={"sort": sort}, headers=rep)
    assert [o["id"] for o in whole.json()["items"]] == expected
    assert await walk(crm, rep, sort=sort) == expected


async def test_a_close_date_range_takes_whole_days_at_both_ends(
    crm: Crm, rep: dict[str, str], deals: list[dict[str, Any]]
) -> None:
    def closing(first: str, last: str) -> list[str]:
        within = [d for d in deals if first <= (d["expected_close_date"] or "") <= last]
        return by_close(within, descending=False)

    params = {"expected_close_from": "2026-12-01", "expected_close_to": "2026-12-15"}
    assert await walk(crm, rep, sort="expected_close_date", **params) == closing(
        "2026-12-01", "2026-12-15"
    )
    later = await walk(crm, rep, sort="expected_close_date", expected_close_from="2026-12-02")
    assert later == closing("2026-12-02", "9999-12-31")
    earlier = await walk(crm, rep, sort="expected_close_date", expected_close_to="2026-12-01")
    assert earlier == closing("0001-01-01", "2026-12-01")
    nothing = await walk(crm, rep, expected_close_from="2026-12-16", expected_close_to="2026-12-15")
    assert nothing == []


async def test_amount_bounds_are_inclusive_and_combine_with_any_sort(
    crm: Crm, rep: dict[str, str], deals: list[dict[str, Any]]
) -> None:
    in_range = [d for d in deals if 200 <= float(d["amount"]) <= 500]
    got = await walk(crm, rep, sort="-amount", amount_min="200", amount_max="500.00")
    assert got == [d["id"] for d in sorted(in_range, key=lambda d: -float(d["amount"]))]
    got = await walk(crm, rep, sort="expected_close_date", amount_min="200", amount_max="500")
    assert got == by_close(in_range, descending=False)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("expected_close_from", "0"),
        ("expected_close_from", "20261201"),
        ("expected_close_to", "2026-12-01T00:00:00"),
        ("expected_close_to", "2026-02-30"),
        ("amount_min", "-1"),
        ("amount_min", "1.234"),
        ("amount_max", "NaN"),
        ("amount_max", "1000000000000"),
    ],
)
async def test_bad_filter_values_are_422_naming_the_parameter(
    crm: Crm, rep: dict[str, str], name: str, value: str
) -> None:
    response = await crm.client.get("/opportunities", params={name: value}, headers=rep)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [f"query.{name}"]


async def test_a_cursor_of_one_close_date_direction_is_refused_in_the_other(
    crm: Crm, rep: dict[str, str], deals: list[dict[str, Any]]
) -> None:
    first = await crm.client.get(
        "/opportunities", params={"limit": "2", "sort": "expected_close_date"}, headers=rep
    )
    cursor = first.json()["next_cursor"]
    response = await crm.client.get(
        "/opportunities",
        params={"limit": "2", "sort": "-expected_close_date", "cursor": cursor},
        headers=rep,
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["query.cursor"]


async def test_the_document_describes_the_new_filters_and_sort(crm: Crm) -> None:
    document = (await crm.client.get("/openapi.json")).json()
    parameters = {p["name"]: p for p in document["paths"]["/opportunities"]["get"]["parameters"]}
    assert "`expected_close_date`" in parameters["sort"]["description"]
    for name in ("expected_close_from", "expected_close_to", "amount_min", "amount_max"):
        assert parameters[name]["description"], name
    assert "date" in str(parameters["expected_close_from"]["schema"])
