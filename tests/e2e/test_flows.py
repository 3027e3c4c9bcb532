"""The six flows of design §6 through the gateway with real tokens, against both services
running as API, relay and consumer processes with the real broker; each flow checks both
sides (see tests/support/journeys.py for what each one asserts)."""

from __future__ import annotations

import pytest

from deploy.local.launcher import Platform
from tests.support.journeys import Journeys

pytestmark = pytest.mark.e2e


async def test_accepted_quote_becomes_a_confirmed_order_that_crm_reports(
    journeys: Journeys,
) -> None:
    seen = await journeys.quote_to_order()
    assert set(seen) == {
        "order in ERP",
        "order status on the CRM quote",
        "order on the CRM timeline",
    }


async def test_shipment_is_invoiced_and_paid_and_crm_shows_the_balance(
    journeys: Journeys,
) -> None:
    seen = await journeys.ship_invoice_pay()
    assert "balance paid in CRM" in seen


async def test_cancelled_order_releases_its_stock_and_crm_sees_it(journeys: Journeys) -> None:
    seen = await journeys.cancel_order()
    assert "cancellation on the CRM quote" in seen


async def test_erp_follows_a_customer_created_and_changed_in_crm(journeys: Journeys) -> None:
    seen = await journeys.customer_replica()
    assert "changed credit limit in ERP" in seen


async def test_a_quote_accepted_before_erp_heard_of_its_customer_still_becomes_an_order(
    platform: Platform, journeys: Journeys
) -> None:
    await journeys.quote_before_the_customer(platform)


async def test_hired_rep_is_assignable_and_a_leaver_s_open_records_go_to_the_manager(
    journeys: Journeys,
) -> None:
    await journeys.employee_lifecycle()


async def test_quotes_default_to_a_new_product_s_price_and_follow_a_repricing(
    journeys: Journeys,
) -> None:
    seen = await journeys.product_pricing()
    assert "new price on CRM quotes" in seen
