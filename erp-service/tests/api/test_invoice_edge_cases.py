"""Invoices at their edges: an invoice of nothing (every line given away) asks for
nothing, so it is paid as it is issued and never overdue; an invoice is paid on the day
the last of its money arrived, whatever order its payments were recorded in."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from erp.config import Settings
from erp.service.overdue import announce_overdue
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.database import session_factory
from tests.support.erp import Erp, ship

pytestmark = pytest.mark.api


async def stocked(erp: Erp) -> None:
    await erp.warehouse("MAIN")
    await erp.product("CHAIR", "19.99", cost="8.00")
    await erp.receive("CHAIR", 50)


async def invoices(erp: Erp, **params: Any) -> list[dict[str, Any]]:
    response = await erp.client.get(
        "/invoices", params={"sort": "number", **params}, headers=erp.headers("finance")
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_an_invoice_of_nothing_is_paid_when_issued_and_never_overdue(
    erp: Erp, erp_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await stocked(erp)
    customer_id = await erp.customer(payment_terms_days=0)
    given_away = await erp.order(
        customer_id, [{"sku": "CHAIR", "quantity": 2, "unit_price": "19.99", "discount_pct": "100"}]
    )
    sold = await erp.order(customer_id, [("CHAIR", 1)])
    for order in (given_away, sold):
        assert (await ship(erp, order, [("CHAIR", order["lines"][0]["quantity"])])).is_success
    free, billed = await erp.invoice_shipments()
    # Nothing is asked, so nothing is open: the invoice is settled as it is issued.
    assert (free["total"], free["amount_paid"], free["amount_due"]) == ("0.00", "0.00", "0.00")
    assert free["status"] == "paid"
    assert billed["status"] == "issued"
    assert billed["amount_due"] != "0.00"
    assert [i["id"] for i in await invoices(erp, status=["issued", "partially_paid"])] == [
        billed["id"]
    ]

    # Subscribers hear it issued, then paid, each with the amounts of its version.
    issued = [e["data"] for e in await erp.events("erp.invoice.issued.v1")]
    [paid] = [e["data"] for e in await erp.events("erp.invoice.paid.v1")]
    [free_issued] = [d for d in issued if d["invoice_id"] == free["id"]]
    assert (free_issued["status"], free_issued["total"], free_issued["amount_due"]) == (
        "issued",
        "0.00",
        "0.00",
    )
    assert paid["invoice_id"] == free["id"]
    assert (paid["total"], paid["amount_paid"], paid["amount_due"]) == ("0.00", "0.00", "0.00")
    assert paid["version"] == free["version"] > free_issued["version"]
    assert paid["paid_on"] == free["issued_on"]
    assert paid["payment_id"] == str(uuid.UUID(int=0))  # no payment settled it

    # It takes no payment and, paid, cannot be voided.
    payment = {"invoice_id": free["id"], "amount": "0.01", "method": "cash"}
    refused = await erp.client.post("/payments", json=payment, headers=erp.headers("finance"))
    assert refused.status_code == 409, refused.text
    void = await erp.client.post(
        f"/invoices/{free['id']}/void", json={"reason": "x"}, headers=erp.headers("finance")
    )
    assert void.status_code == 409, void.text

    later = date.fromisoformat(free["due_date"]) + timedelta(days=3)
    # The sweep announces the invoice that asks for money, not the one of nothing.
    assert await announce_overdue(session_factory(erp.engine), erp_settings, today=later) == 1
    [event] = await erp.events("erp.invoice.overdue.v1")
    assert event["data"]["invoice_id"] == billed["id"]

    # Three days on, the invoice of nothing is not overdue, in the invoice, the filter or
    # the aging.
    three_days_on = datetime.combine(later, time(12), UTC)
    monkeypatch.setattr(UnitOfWork, "now", staticmethod(lambda: three_days_on))
    assert [(i["id"], i["overdue"]) for i in await invoices(erp)] == [
        (free["id"], False),
        (billed["id"], True),
    ]
    assert [i["id"] for i in await invoices(erp, overdue="true")] == [billed["id"]]
    assert [i["id"] for i in await invoices(erp, overdue="false")] == [free["id"]]
    aging = await erp.client.get("/reports/ar-aging", headers=erp.headers("finance"))
    assert aging.json()["totals"]["total"] == billed["amount_due"]


async def test_an_invoice_is_paid_the_day_the_last_of_the_money_arrived(
    erp: Erp, monkeypatch: pytest.MonkeyPatch
) -> None:
    await stocked(erp)
    order = await erp.order(await erp.customer(), [("CHAIR", 1)])
    assert (await ship(erp, order, [("CHAIR", 1)])).is_success
    [invoice] = await erp.invoice_shipments()
    issued_on = date.fromisoformat(invoice["issued_on"])
    ten_days_on = datetime.combine(issued_on + timedelta(days=10), time(12), UTC)
    monkeypatch.setattr(UnitOfWork, "now", staticmethod(lambda: ten_days_on))

    async def pay(amount: str, received_on: date) -> None:
        body = {
            "invoice_id": invoice["id"],
            "amount": amount,
            "method": "bank_transfer",
            "received_on": str(received_on),
        }
        paid = await erp.client.post("/payments", json=body, headers=erp.headers("finance"))
        assert paid.status_code == 201, paid.text

    # Half arrives on day 10; the rest is then recorded, dated back to day 5.
    half = f"{Decimal(invoice['total']) / 2:.2f}"
    await pay(half, issued_on + timedelta(days=10))
    await pay(f"{Decimal(invoice['total']) - Decimal(half):.2f}", issued_on + timedelta(days=5))
    [paid] = await erp.events("erp.invoice.paid.v1")
    assert paid["data"]["paid_on"] == str(issued_on + timedelta(days=10))
    # As the aging says: on day 7 the half received on day 10 was still owed.
    aging = await erp.client.get(
        "/reports/ar-aging",
        params={"as_of": str(issued_on + timedelta(days=7))},
        headers=erp.headers("finance"),
    )
    assert aging.json()["totals"]["total"] == half
