"""Failure journeys end to end: ERP stopped while quotes are accepted, the broker frozen
during the flows, processes crashing and restarting mid-flow. Each ends with every quote
turned into exactly one order that CRM reports: nothing lost, nothing doubled."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from deploy.local.launcher import Platform
from tests.support.journeys import Journeys

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

ERP = ("erp-api", "erp-relay", "erp-consumer")


async def ready(url: str) -> int:
    async with httpx.AsyncClient(timeout=5) as client:
        return (await client.get(f"{url}/readyz")).status_code


async def outbox(journeys: Journeys, service: str) -> dict[str, Any]:
    """The service's outbox backlog (`GET /admin/outbox` through the gateway, as admin)."""
    return await journeys.gw.get("admin", f"/api/{service}/admin/outbox")


async def test_quotes_accepted_while_erp_is_stopped_become_orders_once_it_is_back(
    platform: Platform, journeys: Journeys
) -> None:
    product, quotes = await journeys.drafts(6)
    for name in ERP:
        await platform.stop_process(name)
    try:
        accepted = [await journeys.accept(quote) for quote in quotes]
        assert {quote["status"] for quote in accepted} == {"accepted"}
        orders = await journeys.gw.request("sales", "GET", "/api/erp/orders")
        assert orders.status_code == 503, "ERP is down: the gateway says so"
        assert int(orders.headers["retry-after"]) >= 1
    finally:
        for name in ERP:
            await platform.start_process(name)
    await platform.wait_ready(["erp-api"])
    await journeys.one_confirmed_order_each(product, quotes, settled=platform.wait_settled)


async def test_everything_converges_after_the_broker_was_frozen_during_the_flows(
    platform: Platform, journeys: Journeys
) -> None:
    product, quotes = await journeys.drafts(5)
    platform.broker.pause()
    try:
        accepted = [await journeys.accept(quote) for quote in quotes]
        assert {quote["status"] for quote in accepted} == {"accepted"}
        new_product = await journeys.product(unit_price="61.00", stock=4)
        # The outbox keeps every event: a broker outage makes no service unready.
        for service in ("crm", "erp", "gateway"):
            assert await ready(platform.url_of(service)) == 200
        # The frozen broker took nothing: the events wait in the outboxes.
        assert (await outbox(journeys, "crm"))["pending"] >= len(quotes)
        assert (await outbox(journeys, "erp"))["pending"] >= 1  # the new product
    finally:
        platform.broker.resume()
    await journeys.one_confirmed_order_each(product, quotes, settled=platform.wait_settled)
    customer = await journeys.customer()
    quote, _ = await journeys.draft_quote(new_product["sku"], 1, customer, since=0)
    assert quote["lines"][0]["unit_price"] == "61.00"


async def test_flows_converge_when_processes_crash_and_restart_mid_flow(
    platform: Platform, journeys: Journeys
) -> None:
    product, quotes = await journeys.drafts(10)
    accepted = [await journeys.accept(quote) for quote in quotes[:5]]
    # A crash (SIGKILL: no offsets committed, nothing flushed) of ERP's consumer and of
    # CRM's relay while the first quotes travel, more quotes accepted meanwhile, and a
    # restart of CRM's API.
    await platform.stop_process("erp-consumer", crash=True)
    await platform.stop_process("crm-relay", crash=True)
    accepted += [await journeys.accept(quote) for quote in quotes[5:]]
    assert {quote["status"] for quote in accepted} == {"accepted"}
    await platform.stop_process("crm-api")
    for name in ("crm-api", "crm-relay", "erp-consumer"):
        await platform.start_process(name)
    await platform.wait_ready(["crm-api"])
    await journeys.one_confirmed_order_each(product, quotes, settled=platform.wait_settled)
