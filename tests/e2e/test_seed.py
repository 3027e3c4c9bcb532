"""`make seed`: the demo company loaded through the gateway gives every screen data, in the
states the public API lets it enter on the day (nothing expired or overdue yet), and a second
run changes nothing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from deploy.local import demo_data as demo
from deploy.local.launcher import Platform
from deploy.local.seed import seed
from tests.support.journeys import Journeys

pytestmark = pytest.mark.e2e


async def everything(
    journeys: Journeys, role: str, path: str, **filters: str
) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        params = {**filters, "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = await journeys.gw.get(role, path, **params)
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def statuses(journeys: Journeys, role: str, path: str) -> Counter[str]:
    items = await everything(journeys, role, path)
    return Counter(str(item.get("status", item.get("stage"))) for item in items)


async def test_demo_company_fills_every_screen_and_seeding_again_changes_nothing(
    platform: Platform, journeys: Journeys
) -> None:
    # Other journeys may have run on this platform: what the seed adds is counted from
    # what was there once it had settled.
    await platform.wait_settled()
    quotes_before = await statuses(journeys, "sales", "/api/crm/quotes")
    leads_before = await statuses(journeys, "sales", "/api/crm/leads")
    inquiries_before = await statuses(journeys, "support", "/api/crm/inquiries")
    invoices_before = await statuses(journeys, "finance", "/api/erp/invoices")

    first = await seed(platform.gateway_url)

    # The states the demo data gives them, and no other: expired quotes cannot be entered
    # (a valid_until in the past is refused), they appear when the daily sweep finds them.
    quotes = await statuses(journeys, "sales", "/api/crm/quotes")
    assert quotes - quotes_before == Counter(quote.status for quote in demo.QUOTES)
    assert set(quotes - quotes_before) == {"draft", "sent", "accepted", "rejected"}
    leads = await statuses(journeys, "sales", "/api/crm/leads")
    assert leads - leads_before == Counter(lead.status for lead in demo.LEADS)
    assert set(leads - leads_before) == {
        "new",
        "contacted",
        "qualified",
        "converted",
        "disqualified",
    }
    inquiries = await statuses(journeys, "support", "/api/crm/inquiries")
    assert inquiries - inquiries_before == Counter(item.status for item in demo.INQUIRIES)
    assert set(inquiries - inquiries_before) == {"new", "open", "pending", "resolved", "closed"}
    stages = await statuses(journeys, "sales", "/api/crm/opportunities")
    assert {"prospecting", "qualification", "proposal", "negotiation", "won", "lost"} <= set(stages)
    orders = await statuses(journeys, "sales", "/api/erp/orders")
    assert {"confirmed", "backordered", "on_hold", "shipped", "delivered", "cancelled"} <= set(
        orders
    )
    invoices = await statuses(journeys, "finance", "/api/erp/invoices")
    assert set(invoices - invoices_before) == {"issued", "partially_paid", "paid"}

    # What becomes expired and overdue on a later day: a sent quote valid through today,
    # and an unpaid invoice due today; neither is yet.
    today = datetime.now(UTC).date().isoformat()  # the company's time zone: UTC by default
    sent = await everything(journeys, "sales", "/api/crm/quotes", status="sent")
    assert any(quote["valid_until"] == today for quote in sent), sent
    unpaid = await everything(journeys, "finance", "/api/erp/invoices", status="issued")
    assert any(invoice["due_date"] == today for invoice in unpaid), unpaid
    assert not [invoice for invoice in unpaid if invoice["overdue"]]

    employees = await journeys.gw.get("hr", "/api/erp/employees", limit=200)
    assert len(employees["items"]) > 15
    trial = await journeys.gw.get("finance", "/api/erp/reports/trial-balance")
    assert trial["balanced"]

    again = await seed(platform.gateway_url)
    assert again.startswith("already seeded, nothing changed")
    assert await statuses(journeys, "sales", "/api/erp/orders") == orders
    assert first in again
