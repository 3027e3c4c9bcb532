"""The invoice and payment lists of the finance screens: day ranges (both ends included),
the invoices' sort by total, payments by method and reference; every page walked with
small limits, ties read in number (invoices) or id (payments) order."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from erp.adapters.finance import Invoice
from tests.support.erp import Erp, ship

pytestmark = pytest.mark.api


async def walk(erp: Erp, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, two a page."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": 2, **params, **({"cursor": cursor} if cursor else {})}
        response = await erp.client.get(path, params=query, headers=erp.headers("finance"))
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return found


async def invoices_on_several_days(erp: Erp) -> list[dict[str, Any]]:
    """Seven invoices of two customers (30 and 10 days to pay), issued over four days,
    some paid in part or whole, one void; equal totals and equal amounts due among them."""
    await erp.warehouse("MAIN")
    await erp.product("CHAIR", "10.00", cost="4.00")
    await erp.receive("CHAIR", 50)
    for terms, quantities in ((30, (1, 2, 1, 3)), (10, (2, 1, 1))):
        order = await erp.order(await erp.customer(payment_terms_days=terms), [("CHAIR", 10)])
        for quantity in quantities:
            response = await ship(erp, order, [("CHAIR", quantity)])
            assert response.status_code == 201, response.text
    invoices = await erp.invoice_shipments()
    assert len(invoices) == 7
    back = (5, 4, 4, 3, 5, 4, 2)  # days before today each was issued
    async with erp.engine.begin() as connection:
        for invoice, days in zip(invoices, back, strict=True):
            issued = date.fromisoformat(invoice["issued_on"]) - timedelta(days=days)
            due = date.fromisoformat(invoice["due_date"]) - timedelta(days=days)
            await connection.execute(
                update(Invoice)
                .where(Invoice.number == invoice["number"])
                .values(issued_on=issued, due_date=due)
            )
    for invoice, amount in ((invoices[1], "10.00"), (invoices[3], "35.70")):
        response = await erp.client.post(
            "/payments",
            json={"invoice_id": invoice["id"], "amount": amount, "method": "card"},
            headers=erp.headers("finance"),
        )
        assert response.status_code == 201, response.text
    response = await erp.client.post(
        f"/invoices/{invoices[6]['id']}/void", json={}, headers=erp.headers("finance")
    )
    assert response.status_code == 200, response.text
    return await walk(erp, "/invoices", sort="number")


def by_total(invoice: dict[str, Any]) -> tuple[Decimal, str]:
    return Decimal(invoice["total"]), invoice["number"]


async def test_invoices_sort_by_total_over_pages(erp: Erp) -> None:
    invoices = await invoices_on_several_days(erp)
    totals = [Decimal(i["total"]) for i in invoices]
    assert len(set(totals)) < len(totals)  # equal totals read in number order
    expected = [i["number"] for i in sorted(invoices, key=by_total)]
    assert [i["number"] for i in await walk(erp, "/invoices", sort="total")] == expected
    assert [i["number"] for i in await walk(erp, "/invoices", sort="-total")] == expected[::-1]
    # A filter and the sort together, still paged.
    unpaid = [i for i in invoices if i["status"] in ("issued", "partially_paid")]
    expected = [i["number"] for i in sorted(unpaid, key=by_total)]
    listed = await walk(erp, "/invoices", sort="total", status=["issued", "partially_paid"])
    assert [i["number"] for i in listed] == expected


async def test_invoices_filter_by_days_of_issue_and_due(erp: Erp) -> None:
    invoices = await invoices_on_several_days(erp)
    issued_days = sorted({i["issued_on"] for i in invoices})
    due_days = sorted({i["due_date"] for i in invoices})
    assert len(issued_days) == 4
    assert len(due_days) >= 4
    for sort in ("number", "-total", "issued_on"):
        for low, high in ((1, 2), (0, 0), (3, 3), (2, None), (None, 1)):
            for field, days, attribute in (
                ("issued", issued_days, "issued_on"),
                ("due", due_days, "due_date"),
            ):
                params = {"sort": sort}
                if low is not None:
                    params[f"{field}_from"] = days[low]
                if high is not None:
                    params[f"{field}_to"] = days[high]
                first = days[low] if low is not None else "0000"
                last = days[high] if high is not None else "9999"
                expected = {i["number"] for i in invoices if first <= i[attribute] <= last}
                listed = [i["number"] for i in await walk(erp, "/invoices", **params)]
                assert len(listed) == len(expected), params
                assert set(listed) == expected, params
    both = await walk(
        erp, "/invoices", issued_from=issued_days[1], due_to=due_days[-2], sort="number"
    )
    assert [i["number"] for i in both] == [
        i["number"]
        for i in invoices
        if i["issued_on"] >= issued_days[1] and i["due_date"] <= due_days[-2]
    ]
    # A range the wrong way round is empty, as the journal's date range is.
    assert await walk(erp, "/invoices", issued_from=issued_days[2], issued_to=issued_days[1]) == []


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("issued_from", "0"),
        ("issued_to", "2026-11-30T00:00:00"),
        ("due_from", "2026-13-01"),
        ("due_to", "yesterday"),
        ("sort", "amount_due"),
    ],
)
async def test_invoice_list_refuses_bad_values_naming_the_parameter(
    erp: Erp, parameter: str, value: str
) -> None:
    response = await erp.client.get(
        "/invoices", params={parameter: value}, headers=erp.headers("finance")
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == f"query.{parameter}"


async def test_the_invoice_list_documents_its_filters_and_sorts(erp: Erp) -> None:
    document = (await erp.client.get("/openapi.json")).json()
    parameters = {p["name"]: p for p in document["paths"]["/invoices"]["get"]["parameters"]}
    for name in ("issued_from", "issued_to", "due_from", "due_to"):
        schema = parameters[name]["schema"]["anyOf"][0]
        assert schema == {"type": "string", "format": "date"}, name
        assert parameters[name]["description"], name
    assert "`total`" in parameters["sort"]["description"]


PAYMENTS = [  # (invoice, days before today received, method, reference)
    (0, 5, "cash", "SEPA-2026-A1"),
    (0, 4, "card", "sepa-2026-a2"),
    (0, 3, "bank_transfer", "Sepa 2026 B1"),
    (4, 5, "bank_transfer", None),
    (4, 2, "cheque", "CHQ-17"),
    (2, 4, "card", "sepa-2026-a3"),
    (5, 1, "direct_debit", "DD  77"),
    (5, 0, "card", "Ärger-1"),
]


async def payments_on_several_days(erp: Erp) -> list[dict[str, Any]]:
    invoices = await invoices_on_several_days(erp)
    # The company's today: the last invoice was issued today, then dated two days back.
    today = date.fromisoformat(invoices[6]["issued_on"]) + timedelta(days=2)
    for index, days, method, reference in PAYMENTS:
        body = {
            "invoice_id": invoices[index]["id"],
            "amount": "1.00",
            "method": method,
            "received_on": str(today - timedelta(days=days)),
            **({"reference": reference} if reference else {}),
        }
        response = await erp.client.post("/payments", json=body, headers=erp.headers("finance"))
        assert response.status_code == 201, response.text
    payments = await walk(erp, "/payments", sort="created_at")
    assert len(payments) == len(PAYMENTS) + 2  # and the two of the invoices' setup
    return payments


def ids(payments: list[dict[str, Any]]) -> list[str]:
    return [p["id"] for p in payments]


async def test_payments_filter_by_day_received_method_and_reference(erp: Erp) -> None:
    payments = await payments_on_several_days(erp)
    days = sorted({p["received_on"] for p in payments})
    assert len(days) == 6
    for sort in ("received_on", "-received_on", "created_at"):
        for first, last in (
            (days[1], days[3]),
            (days[0], days[0]),
            (days[2], None),
            (None, days[1]),
        ):
            params = {"sort": sort}
            if first:
                params["received_from"] = first
            if last:
                params["received_to"] = last
            expected = [
                p for p in payments if (first or "0000") <= p["received_on"] <= (last or "9999")
            ]
            if sort != "created_at":
                descending = sort.startswith("-")
                expected.sort(key=lambda p: (p["received_on"], p["id"]), reverse=descending)
            assert ids(await walk(erp, "/payments", **params)) == ids(expected), params
    for methods in (["card"], ["card", "cash"], ["cheque", "direct_debit", "bank_transfer"]):
        listed = await walk(erp, "/payments", sort="created_at", method=methods)
        assert ids(listed) == ids([p for p in payments if p["method"] in methods]), methods
    for q, references in (
        ("sepa-2026-a", ["SEPA-2026-A1", "sepa-2026-a2", "sepa-2026-a3"]),
        ("  SEPA ", ["SEPA-2026-A1", "sepa-2026-a2", "Sepa 2026 B1", "sepa-2026-a3"]),
        ("dd 77", ["DD  77"]),
        ("är", ["Ärger-1"]),
        ("sepa%", []),
        ("2026", []),  # a prefix, not anywhere in the reference
    ):
        listed = await walk(erp, "/payments", sort="created_at", q=q)
        assert [p["reference"] for p in listed] == references, q
    together = await walk(
        erp, "/payments", q="sepa", method=["card"], received_to=days[1], sort="-received_on"
    )
    expected = [p for p in payments if p["reference"] in ("sepa-2026-a2", "sepa-2026-a3")]
    expected.sort(key=lambda p: (p["received_on"], p["id"]), reverse=True)
    assert ids(together) == ids(expected)


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("received_from", "0"),
        ("received_to", "2026-11-30T00:00:00"),
        ("received_to", "2026-02-30"),
        ("method", "wire"),
        ("q", ""),
    ],
)
async def test_payment_list_refuses_bad_values_naming_the_parameter(
    erp: Erp, parameter: str, value: str
) -> None:
    response = await erp.client.get(
        "/payments", params={parameter: value}, headers=erp.headers("finance")
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"].startswith(f"query.{parameter}")


async def test_the_payment_list_documents_its_filters(erp: Erp) -> None:
    document = (await erp.client.get("/openapi.json")).json()
    parameters = {p["name"]: p for p in document["paths"]["/payments"]["get"]["parameters"]}
    for name in ("received_from", "received_to"):
        assert parameters[name]["schema"]["anyOf"][0] == {"type": "string", "format": "date"}
        assert parameters[name]["description"], name
    methods = parameters["method"]["schema"]["anyOf"][0]
    assert methods["type"] == "array"
    assert set(methods["items"]["enum"]) == {
        "bank_transfer",
        "card",
        "cash",
        "cheque",
        "direct_debit",
    }
    assert parameters["q"]["schema"]["anyOf"][0]["maxLength"] == 100
