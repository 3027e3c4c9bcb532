"""The weighted pipeline (`GET /forecast`) through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from crm.config import Settings
from tests.support.crm import Crm

pytestmark = pytest.mark.api


async def customer_of(crm: Crm, headers: dict[str, str]) -> str:
    response = await crm.client.post(
        "/customers",
        json={"kind": "company", "name": "Acme GmbH", "email": "buying@acme.example"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["id"]
    return customer_id


async def opportunity(
    crm: Crm,
    headers: dict[str, str],
    customer_id: str,
    amount: str,
    close: str | None,
    **terms: object,
) -> dict[str, Any]:
    response = await crm.client.post(
        "/opportunities",
        json={
            "name": f"Deal {amount}",
            "customer_id": customer_id,
            "amount": amount,
            "expected_close_date": close,
            **terms,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def close(crm: Crm, headers: dict[str, str], opportunity_id: str, outcome: str) -> None:
    body = {"reason": "Too expensive"} if outcome == "lose" else None
    response = await crm.client.post(
        f"/opportunities/{opportunity_id}/{outcome}", json=body, headers=headers
    )
    assert response.status_code == 200, response.text


async def forecast(crm: Crm, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = await crm.client.get("/forecast", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def figures(group: dict[str, Any], key: str = "stage") -> tuple[Any, ...]:
    return (group[key], group["count"], group["amount"], group["weighted"])


@pytest.fixture
async def pipeline(crm: Crm) -> dict[str, Any]:
    """Two reps' deals in and around 2026-Q4, open, won and lost."""
    ann, ben = await crm.hire("sales", name="Ann"), await crm.hire("sales", name="Ben")
    a, b = crm.headers("sales", ann), crm.headers("sales", ben)
    customer_id = await customer_of(crm, a)
    # In the quarter and open: these make the figures.
    await opportunity(crm, a, customer_id, "1000.00", "2026-10-01")  # prospecting 10 %
    await opportunity(crm, a, customer_id, "333.33", "2026-12-31", stage="proposal")  # 50 %
    await opportunity(
        crm, b, customer_id, "0.05", "2026-11-15", stage="negotiation", probability=10
    )
    await opportunity(
        crm, b, customer_id, "0.05", "2026-11-16", stage="qualification", probability=10
    )
    await opportunity(crm, b, customer_id, "1234.57", "2026-11-30", stage="negotiation")  # 75 %
    # Outside the quarter, without a date, or closed: none of them count.
    await opportunity(crm, a, customer_id, "5000.00", "2027-01-01")
    await opportunity(crm, a, customer_id, "7000.00", "2026-09-30")
    await opportunity(crm, b, customer_id, "9000.00", None)
    won = await opportunity(crm, a, customer_id, "800.00", "2026-11-01")
    await close(crm, a, won["id"], "win")
    lost = await opportunity(crm, b, customer_id, "600.00", "2026-12-01")
    await close(crm, b, lost["id"], "lose")
    return {"ann": ann, "ben": ben, "headers": a}


async def test_by_stage_the_figures_are_exact_to_the_cent(
    crm: Crm, pipeline: dict[str, Any]
) -> None:
    result = await forecast(crm, pipeline["headers"], period="2026-Q4", group_by="stage")
    assert result["period"] == "2026-Q4"
    assert (result["first_day"], result["last_day"]) == ("2026-10-01", "2026-12-31")
    assert result["currency"] == "EUR"
    assert [figures(group) for group in result["groups"]] == [
        ("prospecting", 1, "1000.00", "100.00"),
        ("qualification", 1, "0.05", "0.01"),  # 0.05 x 10 % = 0.005, rounded half up
        ("proposal", 1, "333.33", "166.67"),  # 333.33 x 50 % = 166.665
        ("negotiation", 2, "1234.62", "925.93"),  # 0.005 + 1234.57 x 75 % = 925.9325
    ]
    assert all(group["owner_id"] is None for group in result["groups"])
    assert result["count"] == 5
    assert result["amount"] == "2568.00"
    # 1192.6025 rounded once; the groups' rounded figures would add up to 1192.61.
    assert result["weighted"] == "1192.60"


async def test_by_owner_the_largest_weighted_pipeline_comes_first(
    crm: Crm, pipeline: dict[str, Any]
) -> None:
    result = await forecast(crm, pipeline["headers"], period="2026-q4", group_by="owner")
    ann, ben = str(pipeline["ann"]), str(pipeline["ben"])
    assert [figures(group, key="owner_id") for group in result["groups"]] == [
        (ben, 3, "1234.67", "925.94"),  # 0.005 + 0.005 + 1234.57 x 75 % = 925.9375
        (ann, 2, "1333.33", "266.67"),  # 1000.00 x 10 % + 333.33 x 50 % = 266.665
    ]
    assert all(group["stage"] is None for group in result["groups"])
    assert (result["count"], result["amount"], result["weighted"]) == (5, "2568.00", "1192.60")


async def test_owner_id_narrows_the_pipeline_and_the_won_deals_to_those_owners(
    crm: Crm, pipeline: dict[str, Any]
) -> None:
    ann, ben = str(pipeline["ann"]), str(pipeline["ben"])
    today = datetime.now(UTC).date()
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    mine = await forecast(crm, pipeline["headers"], period="2026-Q4", owner_id=ann)
    assert (mine["count"], mine["amount"], mine["weighted"]) == (2, "1333.33", "266.67")
    theirs = await forecast(crm, pipeline["headers"], period="2026-Q4", owner_id=ben)
    assert (theirs["count"], theirs["amount"], theirs["weighted"]) == (3, "1234.67", "925.94")
    # Ann won the fixture's deal just now; Ben won none.
    for owner, won in ((ann, (1, "800.00")), (ben, (0, "0.00"))):
        result = await forecast(crm, pipeline["headers"], period=quarter, owner_id=owner)
        assert (result["won_count"], result["won_amount"]) == won
    response = await crm.client.get(
        "/forecast",
        params=[("period", "2026-Q4"), ("group_by", "owner"), ("owner_id", ann), ("owner_id", ben)],
        headers=pipeline["headers"],
    )
    both = response.json()
    assert (both["count"], both["amount"], both["weighted"]) == (5, "2568.00", "1192.60")
    bad = await crm.client.get(
        "/forecast", params={"owner_id": "someone"}, headers=pipeline["headers"]
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"].startswith("query.owner_id")


async def test_a_year_and_a_month_are_periods_too(crm: Crm, pipeline: dict[str, Any]) -> None:
    year = await forecast(crm, pipeline["headers"], period="2026")
    assert (year["first_day"], year["last_day"]) == ("2026-01-01", "2026-12-31")
    assert (year["count"], year["amount"]) == (6, "9568.00")  # with 2026-09-30's 7000.00
    november = await forecast(crm, pipeline["headers"], period="2026-11")
    assert (november["first_day"], november["last_day"]) == ("2026-11-01", "2026-11-30")
    assert (november["count"], november["amount"], november["weighted"]) == (
        3,
        "1234.67",
        "925.94",
    )
    february = await forecast(crm, pipeline["headers"], period="2028-02")
    assert february["last_day"] == "2028-02-29"
    assert (february["count"], february["amount"], february["weighted"]) == (0, "0.00", "0.00")
    assert [group["count"] for group in february["groups"]] == [0, 0, 0, 0]


async def test_won_amount_counts_deals_won_in_the_period(
    crm: Crm, pipeline: dict[str, Any]
) -> None:
    # A deal is won in the period its closed_at falls in (company time zone, UTC here),
    # whatever its expected close date said; the fixture's deal was won just now.
    today = datetime.now(UTC).date()
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    for period in (str(today.year), quarter, f"{today.year}-{today.month:02d}"):
        result = await forecast(crm, pipeline["headers"], period=period)
        assert (result["won_count"], result["won_amount"]) == (1, "800.00"), period
    before = await forecast(crm, pipeline["headers"], period=str(today.year - 1))
    assert (before["won_count"], before["won_amount"]) == (0, "0.00")


async def test_without_a_period_it_is_this_quarter(crm: Crm, sales_rep: uuid.UUID) -> None:
    today = datetime.now(UTC).date()
    result = await forecast(crm, crm.headers("sales", sales_rep))
    assert result["period"] == f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    assert result["group_by"] == "stage"


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
async def test_the_first_and_last_periods_of_the_calendar_are_forecast(
    crm: Crm, crm_settings: Settings, sales_rep: uuid.UUID, zone: str
) -> None:
    # Midnight of 0001-01-01 east of UTC comes before the first instant there is, and
    # 9999-12 has no next month: still periods like any other.
    crm_settings.company.timezone = zone
    headers = crm.headers("sales", sales_rep)
    for period, first_day, last_day in [
        ("0001", "0001-01-01", "0001-12-31"),
        ("0001-01", "0001-01-01", "0001-01-31"),
        ("9999", "9999-01-01", "9999-12-31"),
        ("9999-Q4", "9999-10-01", "9999-12-31"),
        ("9999-12", "9999-12-01", "9999-12-31"),
    ]:
        result = await forecast(crm, headers, period=period)
        assert (result["first_day"], result["last_day"]) == (first_day, last_day), period
        assert (result["count"], result["won_count"]) == (0, 0), period


@pytest.mark.parametrize(
    "params",
    [
        {"period": "0000"},
        {"period": "2026-Q5"},
        {"period": "2026-13"},
        {"period": "2026-1"},
        {"period": "26"},
        {"period": "Q4-2026"},
        {"period": "2026-Q4", "group_by": "customer"},
    ],
)
async def test_a_bad_period_or_grouping_is_422(
    crm: Crm, sales_rep: uuid.UUID, params: dict[str, str]
) -> None:
    response = await crm.client.get(
        "/forecast", params=params, headers=crm.headers("sales", sales_rep)
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    name = next(reversed(params))
    assert response.json()["errors"][0]["field"] == f"query.{name}"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("sales", 200),
        ("sales_manager", 200),
        ("admin", 200),
        ("support", 403),
        ("warehouse", 403),
        ("finance", 403),
        ("hr", 403),
    ],
)
async def test_roles_that_read_opportunities_read_the_forecast(
    crm: Crm, role: str, status: int
) -> None:
    response = await crm.client.get(
        "/forecast", params={"period": "2026-Q4"}, headers=crm.headers(role, await crm.hire(role))
    )
    assert response.status_code == status
