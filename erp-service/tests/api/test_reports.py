"""Financial reports and budgets over a small set of books posted by hand, every figure
worked out on paper: trial balance, profit and loss, balance sheet, budget against
actual; who may read them; what input is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from erp.service.unit_of_work import UnitOfWork
from tests.support.erp import Erp, ship

pytestmark = pytest.mark.api

REPORTS = (
    "/reports/trial-balance?as_of=2026-11-30",
    "/reports/profit-and-loss?date_from=2026-11-01&date_to=2026-11-30",
    "/reports/balance-sheet?as_of=2026-11-30",
    "/reports/ar-aging?as_of=2026-11-30",
    "/reports/budget-vs-actual?period=2026-Q4",
)


async def chart(erp: Erp) -> dict[str, str]:
    """Account ids by system key, or by code for accounts without one."""
    response = await erp.client.get(
        "/ledger/accounts", params={"limit": 200}, headers=erp.headers("finance")
    )
    assert response.status_code == 200, response.text
    return {a["system_key"] or a["code"]: a["id"] for a in response.json()["items"]}


async def post_entry(
    erp: Erp, entry_date: str, lines: list[tuple[str, str, str]], memo: str
) -> dict[str, Any]:
    """A manual entry from (account id, debit, credit) triples."""
    body = {
        "entry_date": entry_date,
        "memo": memo,
        "reference": f"{memo.upper()}-{entry_date}",
        "lines": [
            {"account_id": account, "debit": debit, "credit": credit}
            for account, debit, credit in lines
        ],
    }
    return await erp.post("/ledger/journal-entries", body, "finance")


async def books(erp: Erp) -> dict[str, str]:
    """The books every report test reads (Q4 2026):

    10-01  capital         Dr cash 10,000.00 / Cr equity 10,000.00
    10-15  sale on credit  Dr other receivables 2,380.00 / Cr revenue 2,000.00, tax 380.00
    11-01  rent            Dr rent 1,500.00 / Cr cash 1,500.00
    11-10  bank charges    Dr charges 0.10 and 0.20 / Cr bank 0.30
    11-12  travel          Dr travel 45.00 / Cr cash 45.00, reversed the same day
    11-20  payment         Dr bank 1,190.00 / Cr other receivables 1,190.00
    12-05  sale on credit  Dr other receivables 595.00 / Cr revenue 500.00, tax 95.00
    12-10  rent            Dr rent 1,550.00 / Cr bank 1,550.00

    Sales are posted by hand to an account of their own (1150): the receivables account
    is kept by invoices and payments alone.
    """
    accounts = await chart(erp)
    for code, name, kind in (
        ("1150", "Other receivables", "asset"),
        ("6100", "Rent", "expense"),
        ("6200", "Bank charges", "expense"),
        ("6300", "Travel", "expense"),
    ):
        created = await erp.post(
            "/ledger/accounts", {"code": code, "name": name, "type": kind}, "finance"
        )
        accounts[code] = created["id"]
    cash, bank, receivables = accounts["cash"], accounts["bank"], accounts["1150"]
    revenue, tax, equity = accounts["revenue"], accounts["tax_payable"], accounts["equity"]
    rent, charges, travel = accounts["6100"], accounts["6200"], accounts["6300"]
    zero = "0"
    await post_entry(
        erp, "2026-10-01", [(cash, "10000.00", zero), (equity, zero, "10000.00")], "capital"
    )
    await post_entry(
        erp,
        "2026-10-15",
        [(receivables, "2380.00", zero), (revenue, zero, "2000.00"), (tax, zero, "380.00")],
        "sale",
    )
    await post_entry(erp, "2026-11-01", [(rent, "1500.00", zero), (cash, zero, "1500.00")], "rent")
    await post_entry(
        erp,
        "2026-11-10",
        [(charges, "0.10", zero), (charges, "0.20", zero), (bank, zero, "0.30")],
        "bank charges",
    )
    travel_entry = await post_entry(
        erp, "2026-11-12", [(travel, "45.00", zero), (cash, zero, "45.00")], "travel"
    )
    await erp.post(
        f"/ledger/journal-entries/{travel_entry['id']}/reverse",
        {"entry_date": "2026-11-12"},
        "finance",
    )
    await post_entry(
        erp, "2026-11-20", [(bank, "1190.00", zero), (receivables, zero, "1190.00")], "payment"
    )
    await post_entry(
        erp,
        "2026-12-05",
        [(receivables, "595.00", zero), (revenue, zero, "500.00"), (tax, zero, "95.00")],
        "sale",
    )
    await post_entry(erp, "2026-12-10", [(rent, "1550.00", zero), (bank, zero, "1550.00")], "rent")
    return accounts


async def report(erp: Erp, path: str, role: str = "finance", **params: str) -> dict[str, Any]:
    response = await erp.client.get(path, params=params, headers=erp.headers(role))
    assert response.status_code == 200, response.text
    return dict(response.json())


def section(body: dict[str, Any]) -> tuple[list[tuple[str | None, str]], str]:
    return [(line["code"], line["amount"]) for line in body["lines"]], body["total"]


async def test_the_trial_balance_lists_every_account_posted_to_and_balances(erp: Erp) -> None:
    await books(erp)
    tb = await report(erp, "/reports/trial-balance", as_of="2026-11-30")
    assert (tb["as_of"], tb["currency"]) == ("2026-11-30", "EUR")
    rows = [
        (
            a["code"],
            a["type"],
            a["debit_total"],
            a["credit_total"],
            a["debit_balance"],
            a["credit_balance"],
        )
        for a in tb["accounts"]
    ]
    # December's entries are after as_of; travel is in, at zero, posted and reversed.
    assert rows == [
        ("1000", "asset", "10045.00", "1545.00", "8500.00", "0.00"),
        ("1010", "asset", "1190.00", "0.30", "1189.70", "0.00"),
        ("1150", "asset", "2380.00", "1190.00", "1190.00", "0.00"),
        ("2100", "liability", "0.00", "380.00", "0.00", "380.00"),
        ("3000", "equity", "0.00", "10000.00", "0.00", "10000.00"),
        ("4000", "revenue", "0.00", "2000.00", "0.00", "2000.00"),
        ("6100", "expense", "1500.00", "0.00", "1500.00", "0.00"),
        ("6200", "expense", "0.30", "0.00", "0.30", "0.00"),
        ("6300", "expense", "45.00", "45.00", "0.00", "0.00"),
    ]
    assert tb["totals"] == {
        "debit_total": "15160.30",
        "credit_total": "15160.30",
        "debit_balance": "12380.00",
        "credit_balance": "12380.00",
    }
    assert tb["balanced"] is True

    october = await report(erp, "/reports/trial-balance", as_of="2026-10-31")
    assert [(a["code"], a["debit_balance"], a["credit_balance"]) for a in october["accounts"]] == [
        ("1000", "10000.00", "0.00"),
        ("1150", "2380.00", "0.00"),
        ("2100", "0.00", "380.00"),
        ("3000", "0.00", "10000.00"),
        ("4000", "0.00", "2000.00"),
    ]
    assert october["totals"]["debit_total"] == october["totals"]["credit_total"] == "12380.00"
    before = await report(erp, "/reports/trial-balance", as_of="2026-09-30")
    assert (before["accounts"], before["balanced"]) == ([], True)
    assert before["totals"]["debit_total"] == "0.00"

    # Without as_of: today in the company's time zone, every entry up to it.
    today = await report(erp, "/reports/trial-balance")
    assert today == await report(erp, "/reports/trial-balance", as_of=today["as_of"])
    year_end = await report(erp, "/reports/trial-balance", as_of="2026-12-31")
    assert year_end["totals"]["debit_total"] == year_end["totals"]["credit_total"] == "17305.30"
    assert year_end["balanced"] is True


async def test_profit_and_loss_counts_entries_dated_in_the_range(erp: Erp) -> None:
    await books(erp)
    november = await report(
        erp, "/reports/profit-and-loss", date_from="2026-11-01", date_to="2026-11-30"
    )
    assert (november["date_from"], november["date_to"]) == ("2026-11-01", "2026-11-30")
    assert section(november["revenue"]) == ([], "0.00")
    assert section(november["expenses"]) == (
        [("6100", "1500.00"), ("6200", "0.30"), ("6300", "0.00")],
        "1500.30",
    )
    assert november["net_income"] == "-1500.30"

    quarter = await report(
        erp, "/reports/profit-and-loss", date_from="2026-10-01", date_to="2026-12-31"
    )
    assert section(quarter["revenue"]) == ([("4000", "2500.00")], "2500.00")
    assert section(quarter["expenses"]) == (
        [("6100", "3050.00"), ("6200", "0.30"), ("6300", "0.00")],
        "3050.30",
    )
    assert quarter["net_income"] == "-550.30"
    assert quarter["revenue"]["lines"][0]["name"] == "Revenue"

    # One day, both ends included.
    sale_day = await report(
        erp, "/reports/profit-and-loss", date_from="2026-10-15", date_to="2026-10-15"
    )
    assert section(sale_day["revenue"]) == ([("4000", "2000.00")], "2000.00")
    assert section(sale_day["expenses"]) == ([], "0.00")
    assert sale_day["net_income"] == "2000.00"


async def test_the_balance_sheet_balances_with_the_current_earnings_in_equity(erp: Erp) -> None:
    await books(erp)
    sheet = await report(erp, "/reports/balance-sheet", as_of="2026-11-30")
    assert section(sheet["assets"]) == (
        [("1000", "8500.00"), ("1010", "1189.70"), ("1150", "1190.00")],
        "10879.70",
    )
    assert section(sheet["liabilities"]) == ([("2100", "380.00")], "380.00")
    # Revenue 2,000.00 less expenses 1,500.30.
    assert section(sheet["equity"]) == ([("3000", "10000.00"), (None, "499.70")], "10499.70")
    earnings = sheet["equity"]["lines"][-1]
    assert (earnings["account_id"], earnings["name"]) == (None, "Current earnings")
    assert sheet["liabilities_and_equity"] == "10879.70"
    assert sheet["balanced"] is True

    october = await report(erp, "/reports/balance-sheet", as_of="2026-10-31")
    assert section(october["assets"]) == ([("1000", "10000.00"), ("1150", "2380.00")], "12380.00")
    assert section(october["equity"]) == ([("3000", "10000.00"), (None, "2000.00")], "12000.00")
    assert (october["liabilities_and_equity"], october["balanced"]) == ("12380.00", True)

    # By the year's end the bank is overdrawn (a negative asset) and the year a loss.
    year_end = await report(erp, "/reports/balance-sheet", as_of="2026-12-31")
    assert section(year_end["assets"]) == (
        [("1000", "8500.00"), ("1010", "-360.30"), ("1150", "1785.00")],
        "9924.70",
    )
    assert section(year_end["liabilities"]) == ([("2100", "475.00")], "475.00")
    assert section(year_end["equity"]) == ([("3000", "10000.00"), (None, "-550.30")], "9449.70")
    assert (year_end["liabilities_and_equity"], year_end["balanced"]) == ("9924.70", True)

    empty = await report(erp, "/reports/balance-sheet", as_of="2026-01-31")
    assert section(empty["equity"]) == ([(None, "0.00")], "0.00")
    assert empty["balanced"] is True


async def set_budget(
    erp: Erp, account_id: str, month: str, amount: str, expected: int = 200
) -> dict[str, Any]:
    response = await erp.client.put(
        f"/budgets/{account_id}/{month}", json={"amount": amount}, headers=erp.headers("finance")
    )
    assert response.status_code == expected, response.text
    return dict(response.json())


async def test_budgets_are_set_replaced_listed_and_removed(erp: Erp) -> None:
    accounts = await books(erp)
    rent, revenue = accounts["6100"], accounts["revenue"]
    created = await set_budget(erp, rent, "2026-11", "1500.00", expected=201)
    assert (created["account_id"], created["month"], created["amount"]) == (
        rent,
        "2026-11",
        "1500.00",
    )
    assert created["version"] == 1
    replaced = await set_budget(erp, rent, "2026-11", "1450.50")
    assert (replaced["id"], replaced["amount"], replaced["version"]) == (
        created["id"],
        "1450.50",
        2,
    )
    same = await set_budget(erp, rent, "2026-11", "1450.50")
    assert (same["amount"], same["version"]) == ("1450.50", 2)
    await set_budget(erp, rent, "2026-12", "1500.00", expected=201)
    await set_budget(erp, revenue, "2026-11", "2500.00", expected=201)

    listed = await report(erp, "/budgets")
    assert sorted((b["month"], b["account_id"], b["amount"]) for b in listed["items"]) == sorted(
        [
            ("2026-11", rent, "1450.50"),
            ("2026-11", revenue, "2500.00"),
            ("2026-12", rent, "1500.00"),
        ]
    )
    assert [b["month"] for b in listed["items"]] == ["2026-11", "2026-11", "2026-12"]
    november = await report(erp, "/budgets", month="2026-11")
    assert {b["account_id"] for b in november["items"]} == {rent, revenue}
    of_rent = await report(erp, "/budgets", account_id=rent, sort="-month")
    assert [b["month"] for b in of_rent["items"]] == ["2026-12", "2026-11"]
    # Keyset pages: one at a time, nothing twice, nothing left out.
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        page = await report(erp, "/budgets", **params)
        seen.extend(b["id"] for b in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(b["id"] for b in listed["items"])

    removed = await erp.client.delete(f"/budgets/{rent}/2026-12", headers=erp.headers("finance"))
    assert removed.status_code == 204
    again = await erp.client.delete(f"/budgets/{rent}/2026-12", headers=erp.headers("finance"))
    assert again.status_code == 404
    assert [b["month"] for b in (await report(erp, "/budgets", account_id=rent))["items"]] == [
        "2026-11"
    ]

    refused = {
        "month 13": (f"/budgets/{rent}/2026-13", {"amount": "1.00"}),
        "a quarter": (f"/budgets/{rent}/2026-Q4", {"amount": "1.00"}),
        "year 0000, which no report reaches": (f"/budgets/{rent}/0000-01", {"amount": "1.00"}),
        "digits of another script": (
            f"/budgets/{rent}/\uff12\uff10\uff12\uff16-11",
            {"amount": "1.00"},
        ),
        "fractions of a cent": (f"/budgets/{rent}/2026-11", {"amount": "1.005"}),
        "no amount": (f"/budgets/{rent}/2026-11", {}),
    }
    stored = (await report(erp, "/budgets", limit="200"))["items"]
    assert [b["month"] for b in stored] == ["2026-11", "2026-11"]
    for what, (path, body) in refused.items():
        response = await erp.client.put(path, json=body, headers=erp.headers("finance"))
        assert response.status_code == 422, what
        assert response.headers["content-type"] == "application/problem+json", what
        if what.startswith(("month", "a quarter", "year", "digits")):
            assert response.json()["errors"][-1]["field"] == "path.month", what
    # Nothing refused was stored, nor changed the amount or version of what was.
    assert (await report(erp, "/budgets", limit="200"))["items"] == stored
    bad_filter = await erp.client.get("/budgets?month=2026-1", headers=erp.headers("finance"))
    assert bad_filter.status_code == 422
    unknown = await erp.client.put(
        "/budgets/00000000-0000-4000-8000-000000000000/2026-11",
        json={"amount": "1.00"},
        headers=erp.headers("finance"),
    )
    assert unknown.status_code == 404, unknown.text
    assert unknown.headers["content-type"] == "application/problem+json"
    assert (await report(erp, "/budgets", limit="200"))["items"] == stored

    for role in ("sales", "sales_manager", "warehouse", "hr", "support"):
        headers = erp.headers(role)
        assert (await erp.client.get("/budgets", headers=headers)).status_code == 403, role
        put = await erp.client.put(
            f"/budgets/{rent}/2026-11", json={"amount": "1.00"}, headers=headers
        )
        assert put.status_code == 403, role
        delete = await erp.client.delete(f"/budgets/{rent}/2026-11", headers=headers)
        assert delete.status_code == 403, role
    assert (await report(erp, "/budgets", limit="200"))["items"] == stored
    admin = await erp.client.put(
        f"/budgets/{rent}/2026-10", json={"amount": "1500.00"}, headers=erp.headers("admin")
    )
    assert admin.status_code == 201


async def test_budget_against_actual_for_a_month_a_quarter_and_a_year(erp: Erp) -> None:
    accounts = await books(erp)
    rent, revenue, travel = accounts["6100"], accounts["revenue"], accounts["6300"]
    for account, month, amount in (
        (rent, "2026-03", "1400.00"),
        (rent, "2026-10", "1500.00"),
        (rent, "2026-11", "1500.00"),
        (rent, "2026-12", "1500.00"),
        (rent, "2027-01", "1600.00"),
        (revenue, "2026-11", "2500.00"),
        (revenue, "2026-12", "1000.00"),
        (travel, "2026-11", "100.00"),
    ):
        await set_budget(erp, account, month, amount, expected=201)

    def lines(body: dict[str, Any]) -> list[tuple[str, str, str, str]]:
        return [(a["code"], a["budget"], a["actual"], a["variance"]) for a in body["accounts"]]

    november = await report(erp, "/reports/budget-vs-actual", period="2026-11")
    assert (november["period"], november["date_from"], november["date_to"]) == (
        "2026-11",
        "2026-11-01",
        "2026-11-30",
    )
    # Balance-sheet accounts have no budget, but November moved them.
    assert lines(november) == [
        ("1000", "0.00", "-1500.00", "-1500.00"),
        ("1010", "0.00", "1189.70", "1189.70"),
        ("1150", "0.00", "-1190.00", "-1190.00"),
        ("4000", "2500.00", "0.00", "-2500.00"),
        ("6100", "1500.00", "1500.00", "0.00"),
        ("6200", "0.00", "0.30", "0.30"),
        ("6300", "100.00", "0.00", "-100.00"),
    ]

    quarter = await report(erp, "/reports/budget-vs-actual", period="2026-Q4")
    assert (quarter["date_from"], quarter["date_to"]) == ("2026-10-01", "2026-12-31")
    assert lines(quarter) == [
        ("1000", "0.00", "8500.00", "8500.00"),
        ("1010", "0.00", "-360.30", "-360.30"),
        ("1150", "0.00", "1785.00", "1785.00"),
        ("2100", "0.00", "475.00", "475.00"),
        ("3000", "0.00", "10000.00", "10000.00"),
        ("4000", "3500.00", "2500.00", "-1000.00"),
        ("6100", "4500.00", "3050.00", "-1450.00"),
        ("6200", "0.00", "0.30", "0.30"),
        ("6300", "100.00", "0.00", "-100.00"),
    ]
    year = await report(erp, "/reports/budget-vs-actual", period="2026")
    assert (year["date_from"], year["date_to"]) == ("2026-01-01", "2026-12-31")
    # March's rent budget counts in the year; January 2027's in neither.
    assert [line for line in lines(year) if line[0] == "6100"] == [
        ("6100", "5900.00", "3050.00", "-2850.00")
    ]
    assert [line for line in lines(year) if line[0] != "6100"] == [
        line for line in lines(quarter) if line[0] != "6100"
    ]
    first_quarter = await report(erp, "/reports/budget-vs-actual", period="2026-Q1")
    assert lines(first_quarter) == [("6100", "1400.00", "0.00", "-1400.00")]
    assert (await report(erp, "/reports/budget-vs-actual", period="2025"))["accounts"] == []


async def test_only_finance_and_admin_read_reports(erp: Erp) -> None:
    for path in REPORTS:
        for role in ("finance", "admin"):
            response = await erp.client.get(path, headers=erp.headers(role))
            assert response.status_code == 200, (path, role, response.text)
        for role in ("sales", "sales_manager", "warehouse", "hr", "support"):
            response = await erp.client.get(path, headers=erp.headers(role))
            assert response.status_code == 403, (path, role)
        assert (await erp.client.get(path)).status_code == 401, path


async def test_bad_dates_ranges_and_periods_are_422(erp: Erp) -> None:
    refused = [
        "/reports/trial-balance?as_of=2026-13-01",
        "/reports/trial-balance?as_of=yesterday",
        "/reports/balance-sheet?as_of=2026-02-30",
        "/reports/ar-aging?as_of=30.11.2026",
        "/reports/profit-and-loss?date_from=2026-12-01&date_to=2026-11-30",
        "/reports/profit-and-loss?date_from=2026-11-01",
        "/reports/profit-and-loss?date_to=2026-11-30",
        "/reports/profit-and-loss?date_from=2026-11-01&date_to=soon",
        "/reports/budget-vs-actual",
        "/reports/budget-vs-actual?period=2026-Q5",
        "/reports/budget-vs-actual?period=2026-13",
        "/reports/budget-vs-actual?period=26",
        "/reports/budget-vs-actual?period=2026-11-01",
        "/reports/budget-vs-actual?period=Q4-2026",
    ]
    for path in refused:
        response = await erp.client.get(path, headers=erp.headers("finance"))
        assert response.status_code == 422, path
        assert response.headers["content-type"] == "application/problem+json", path
        assert response.json()["errors"], path
    backwards = await erp.client.get(
        "/reports/profit-and-loss?date_from=2026-12-01&date_to=2026-11-30",
        headers=erp.headers("finance"),
    )
    assert backwards.json()["errors"] == [
        {"field": "query.date_to", "message": "must be on or after date_from"}
    ]


async def test_the_first_and_last_days_of_the_calendar_are_reported_and_year_0000_is_not(
    erp: Erp,
) -> None:
    accounts = await chart(erp)
    rent = (
        await erp.post(
            "/ledger/accounts", {"code": "6100", "name": "Rent", "type": "expense"}, "finance"
        )
    )["id"]
    cash, equity = accounts["cash"], accounts["equity"]
    await post_entry(erp, "0001-01-01", [(cash, "100.00", "0"), (equity, "0", "100.00")], "capital")
    await post_entry(erp, "9999-12-31", [(rent, "10.00", "0"), (cash, "0", "10.00")], "rent")
    await set_budget(erp, rent, "9999-12", "12.00", expected=201)

    for period, date_from in (
        ("9999", "9999-01-01"),
        ("9999-Q4", "9999-10-01"),
        ("9999-12", "9999-12-01"),
    ):
        body = await report(erp, "/reports/budget-vs-actual", period=period)
        assert (body["period"], body["date_from"], body["date_to"]) == (
            period,
            date_from,
            "9999-12-31",
        )
        assert [(a["code"], a["budget"], a["actual"]) for a in body["accounts"]] == [
            ("1000", "0.00", "-10.00"),
            ("6100", "12.00", "10.00"),
        ]
    first = await report(erp, "/reports/budget-vs-actual", period="0001-01")
    assert (first["date_from"], first["date_to"]) == ("0001-01-01", "0001-01-31")
    assert [a["code"] for a in first["accounts"]] == ["1000", "3000"]

    first_day = await report(erp, "/reports/trial-balance", as_of="0001-01-01")
    assert (first_day["totals"]["debit_total"], first_day["balanced"]) == ("100.00", True)
    last_day = await report(erp, "/reports/balance-sheet", as_of="9999-12-31")
    assert (last_day["assets"]["total"], last_day["balanced"]) == ("90.00", True)
    everything = await report(
        erp, "/reports/profit-and-loss", date_from="0001-01-01", date_to="9999-12-31"
    )
    assert everything["net_income"] == "-10.00"
    for as_of in ("0001-01-01", "0001-03-31", "9999-12-31"):
        aging = await report(erp, "/reports/ar-aging", as_of=as_of)
        assert (aging["as_of"], aging["customers"], aging["totals"]["total"]) == (as_of, [], "0.00")

    for period in ("0000", "0000-01", "0000-Q4"):
        refused = await erp.client.get(
            "/reports/budget-vs-actual", params={"period": period}, headers=erp.headers("finance")
        )
        assert refused.status_code == 422, (period, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"] == [
            {"field": "query.period", "message": "the year is from 0001 to 9999"}
        ]


async def invoiced(erp: Erp, lamps_by_customer: list[tuple[str, int, int]]) -> dict[str, Any]:
    """For each (customer name, payment terms in days, lamps) an order of that many lamps
    (100.00 each, 19 % tax: 119.00 a lamp) shipped in full and invoiced; the invoices by
    customer name (several orders of one name are one customer)."""
    customers: dict[str, Any] = {}
    for name, terms, _ in lamps_by_customer:
        if name not in customers:
            customers[name] = await erp.customer(name=name, payment_terms_days=terms)
    for name, _, lamps in lamps_by_customer:
        order = await erp.order(customers[name], [("LAMP", lamps)])
        assert (await ship(erp, order, [("LAMP", lamps)])).status_code == 201
    invoices = await erp.invoice_shipments()
    assert len(invoices) == len(lamps_by_customer)
    return {"customers": customers, "invoices": invoices}


async def test_receivables_age_by_days_past_due_per_customer(erp: Erp) -> None:
    await erp.warehouse("MAIN")
    await erp.product("LAMP", "100.00", cost="40.00", tax_rate="19")
    await erp.receive("LAMP", 100)
    made = await invoiced(
        erp,
        [
            ("Acme GmbH", 30, 2),  # 238.00, of which 38.00 paid
            ("Acme GmbH", 30, 1),  # 119.00, paid in full
            ("Beta AG", 0, 1),  # 119.00, due the day it is issued
            ("Beta AG", 0, 1),  # 119.00, voided
            ("Gamma KG", 90, 3),  # 357.00
            ("Delta Ltd", 120, 1),  # 119.00
            ("Epsilon SE", 60, 1),  # 119.00
        ],
    )
    invoices, customers = made["invoices"], made["customers"]
    [issued] = {invoice["issued_on"] for invoice in invoices}
    day = date.fromisoformat(issued)
    by_order = sorted(invoices, key=lambda invoice: invoice["number"])
    assert [invoice["total"] for invoice in by_order] == [
        "238.00",
        "119.00",
        "119.00",
        "119.00",
        "357.00",
        "119.00",
        "119.00",
    ]
    acme_part, acme_paid, _, beta_void = by_order[:4]
    for invoice, amount in ((acme_part, "38.00"), (acme_paid, "119.00")):
        paid = await erp.client.post(
            "/payments",
            json={"invoice_id": invoice["id"], "amount": amount, "method": "bank_transfer"},
            headers=erp.headers("finance"),
        )
        assert paid.status_code == 201, paid.text
    voided = await erp.client.post(
        f"/invoices/{beta_void['id']}/void", json={}, headers=erp.headers("finance")
    )
    assert voided.status_code == 200, voided.text

    def aging(body: dict[str, Any]) -> list[tuple[str, ...]]:
        return [
            (
                row["customer_name"],
                row["current"],
                row["days_1_30"],
                row["days_31_60"],
                row["days_61_90"],
                row["days_over_90"],
                row["total"],
            )
            for row in body["customers"]
        ]

    # A hundred days on: Acme's invoice is 70 days past due, Beta's 100, Gamma's 10,
    # Epsilon's 40, and Delta's is due in 20 days.
    later = await report(erp, "/reports/ar-aging", as_of=str(day + timedelta(days=100)))
    assert aging(later) == [
        ("Acme GmbH", "0.00", "0.00", "0.00", "200.00", "0.00", "200.00"),
        ("Beta AG", "0.00", "0.00", "0.00", "0.00", "119.00", "119.00"),
        ("Delta Ltd", "119.00", "0.00", "0.00", "0.00", "0.00", "119.00"),
        ("Epsilon SE", "0.00", "0.00", "119.00", "0.00", "0.00", "119.00"),
        ("Gamma KG", "0.00", "357.00", "0.00", "0.00", "0.00", "357.00"),
    ]
    assert later["totals"] == {
        "current": "119.00",
        "days_1_30": "357.00",
        "days_31_60": "119.00",
        "days_61_90": "200.00",
        "days_over_90": "119.00",
        "total": "914.00",
    }
    assert [row["customer_id"] for row in later["customers"]] == [
        str(customers[name])
        for name in ("Acme GmbH", "Beta AG", "Delta Ltd", "Epsilon SE", "Gamma KG")
    ]

    # On its due date an invoice is still current; the day after, 1 day past due.
    month_on = await report(erp, "/reports/ar-aging", as_of=str(day + timedelta(days=30)))
    assert [(row[0], row[1], row[2], row[3]) for row in aging(month_on)][:2] == [
        ("Acme GmbH", "200.00", "0.00", "0.00"),
        ("Beta AG", "0.00", "119.00", "0.00"),  # 30 days past due
    ]
    day_after = await report(erp, "/reports/ar-aging", as_of=str(day + timedelta(days=31)))
    assert aging(day_after) == [
        ("Acme GmbH", "0.00", "200.00", "0.00", "0.00", "0.00", "200.00"),
        ("Beta AG", "0.00", "0.00", "119.00", "0.00", "0.00", "119.00"),
        ("Delta Ltd", "119.00", "0.00", "0.00", "0.00", "0.00", "119.00"),
        ("Epsilon SE", "119.00", "0.00", "0.00", "0.00", "0.00", "119.00"),
        ("Gamma KG", "357.00", "0.00", "0.00", "0.00", "0.00", "357.00"),
    ]

    # Issued on as_of counts; the day before, none of them had been issued.
    same_day = await report(erp, "/reports/ar-aging", as_of=issued)
    assert same_day["totals"]["current"] == same_day["totals"]["total"] == "914.00"
    before = await report(erp, "/reports/ar-aging", as_of=str(day - timedelta(days=1)))
    assert before["customers"] == []
    assert before["totals"]["total"] == "0.00"


async def test_the_aging_of_a_past_day_counts_payments_and_voids_as_they_stood_then(
    erp: Erp, monkeypatch: pytest.MonkeyPatch
) -> None:
    await erp.warehouse("MAIN")
    await erp.product("LAMP", "100.00", cost="40.00", tax_rate="19")
    await erp.receive("LAMP", 100)
    made = await invoiced(erp, [("Acme GmbH", 30, 2), ("Beta AG", 30, 1), ("Acme GmbH", 30, 1)])
    acme_part, beta_void, acme_paid = sorted(made["invoices"], key=lambda i: i["number"])
    day = date.fromisoformat(acme_part["issued_on"])

    async def pay(invoice: dict[str, Any], amount: str, received_on: date) -> None:
        body = {
            "invoice_id": invoice["id"],
            "amount": amount,
            "method": "bank_transfer",
            "received_on": str(received_on),
        }
        paid = await erp.client.post("/payments", json=body, headers=erp.headers("finance"))
        assert paid.status_code == 201, paid.text

    await pay(acme_part, "38.00", day)
    # Ten days on: a payment dated back to day 5, one received and a void booked today.
    ten_days_on = datetime.combine(day + timedelta(days=10), time(12), UTC)
    monkeypatch.setattr(UnitOfWork, "now", staticmethod(lambda: ten_days_on))
    await pay(acme_part, "100.00", day + timedelta(days=5))
    await pay(acme_paid, "119.00", day + timedelta(days=10))
    voided = await erp.client.post(
        f"/invoices/{beta_void['id']}/void", json={}, headers=erp.headers("finance")
    )
    assert voided.status_code == 200, voided.text

    async def owed_on(as_of: date) -> tuple[str, str]:
        """(aging total, receivables in the balance sheet) on that day."""
        aging = await report(erp, "/reports/ar-aging", as_of=str(as_of))
        sheet = await report(erp, "/reports/balance-sheet", as_of=str(as_of))
        receivables = [
            line["amount"] for line in sheet["assets"]["lines"] if line["code"] == "1100"
        ]
        return aging["totals"]["total"], (receivables or ["0.00"])[0]

    assert await owed_on(day - timedelta(days=1)) == ("0.00", "0.00")
    # 200.00 of Acme's first, Beta's 119.00 not yet voided, Acme's second not yet paid.
    assert await owed_on(day) == ("438.00", "438.00")
    assert await owed_on(day + timedelta(days=4)) == ("438.00", "438.00")
    assert await owed_on(day + timedelta(days=5)) == ("338.00", "338.00")
    assert await owed_on(day + timedelta(days=9)) == ("338.00", "338.00")
    assert await owed_on(day + timedelta(days=10)) == ("100.00", "100.00")
    before_void = await report(erp, "/reports/ar-aging", as_of=str(day + timedelta(days=9)))
    assert [(row["customer_name"], row["total"]) for row in before_void["customers"]] == [
        ("Acme GmbH", "219.00"),
        ("Beta AG", "119.00"),
    ]
