"""The six flows of design §6 through the gateway with real tokens, against both services
running as API, relay and consumer processes with the real broker; each flow checks both
sides and fails on the first outcome a user would not expect (see tests/support/journeys.py
for what each one asserts). What the journeys return, the time each outcome took to show,
is for the flow benchmark."""

from __future__ import annotations

import pytest

from deploy.local.launcher import Platform
from tests.support.journeys import Journeys

pytestmark = pytest.mark.e2e


async def test_accepted_quote_becomes_a_confirmed_order_that_crm_reports(
    journeys: Journeys,
) -> None:
    await journeys.quote_to_order()


async def test_shipment_is_invoiced_and_paid_and_crm_shows_the_balance(
    journeys: Journeys,
) -> None:
    await journeys.ship_invoice_pay()


async def test_cancelled_order_releases_its_stock_and_crm_sees_it(journeys: Journeys) -> None:
    await journeys.cancel_order()


async def test_erp_follows_a_customer_created_and_changed_in_crm(journeys: Journeys) -> None:
    await journeys.customer_replica()


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
    await journeys.product_pricing()
