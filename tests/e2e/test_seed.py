"""`make seed`: the demo company loaded through the gateway gives every screen data, and a
second run changes nothing."""

from __future__ import annotations

from collections import Counter

import pytest

from deploy.local.launcher import Platform
from deploy.local.seed import seed
from tests.support.journeys import Journeys

pytestmark = pytest.mark.e2e


async def statuses(journeys: Journeys, role: str, path: str) -> Counter[str]:
    seen: Counter[str] = Counter()
    cursor = None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = await journeys.gw.get(role, path, **params)
        seen.update(str(item.get("status", item.get("stage"))) for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


async def test_demo_company_fills_every_screen_and_seeding_again_changes_nothing(
    platform: Platform, journeys: Journeys
) -> None:
    first = await seed(platform.gateway_url)
    leads = await statuses(journeys, "sales", "/api/crm/leads")
    assert {"new", "contacted", "qualified", "converted", "disqualified"} <= set(leads)
    stages = await statuses(journeys, "sales", "/api/crm/opportunities")
    assert {"prospecting", "qualification", "proposal", "negotiation", "won", "lost"} <= set(stages)
    quotes = await statuses(journeys, "sales", "/api/crm/quotes")
    assert {"draft", "sent", "accepted", "rejected"} <= set(quotes)
    inquiries = await statuses(journeys, "support", "/api/crm/inquiries")
    assert {"new", "open", "pending", "resolved", "closed"} <= set(inquiries)
    orders = await statuses(journeys, "sales", "/api/erp/orders")
    assert {"confirmed", "backordered", "on_hold", "shipped", "delivered", "cancelled"} <= set(
        orders
    )
    invoices = await statuses(journeys, "finance", "/api/erp/invoices")
    assert {"issued", "partially_paid", "paid"} <= set(invoices)
    employees = await journeys.gw.get("hr", "/api/erp/employees", limit=200)
    assert len(employees["items"]) > 15
    trial = await journeys.gw.get("finance", "/api/erp/reports/trial-balance")
    assert trial["balanced"]

    again = await seed(platform.gateway_url)
    assert again.startswith("already seeded, nothing changed")
    assert await statuses(journeys, "sales", "/api/erp/orders") == orders
    assert first in again
