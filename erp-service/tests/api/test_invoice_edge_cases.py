"""Invoices at their edges: an invoice of nothing (every line given away) asks for
nothing, so it is never overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from erp.config import Settings
from erp.service.invoices import announce_overdue
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


async def test_an_invoice_of_nothing_is_never_overdue(
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
    assert (free["total"], free["amount_due"], free["status"]) == ("0.00", "0.00", "issued")
    assert billed["amount_due"] != "0.00"

    later = date.fromisoformat(free["due_date"]) + timedelta(days=3)
    # The sweep announces the invoice that asks for money, not the one of nothing.
    assert await announce_overdue(session_factory(erp.engine), erp_settings, today=later) == 1
    [event] = await erp.events("erp.invoice.overdue.v1")
    assert event["data"]["invoice_id"] == billed["id"]

    # Three days on, the invoice of nothing is not overdue, in the invoice or the filter.
    three_days_on = datetime.combine(later, time(12), UTC)
    monkeypatch.setattr(UnitOfWork, "now", staticmethod(lambda: three_days_on))
    assert [(i["id"], i["overdue"]) for i in await invoices(erp)] == [
        (free["id"], False),
        (billed["id"], True),
    ]
    assert [i["id"] for i in await invoices(erp, overdue="true")] == [billed["id"]]
    assert [i["id"] for i in await invoices(erp, overdue="false")] == [free["id"]]
