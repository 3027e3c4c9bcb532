"""Orders from `crm.quote.accepted.v1`, applied through the consumer path: one order per
quote however the event is delivered, the quote's prices, and the customer's snapshot
starting or refreshing ERP's replica."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared_schemas.domain import RuleViolation
from shared_schemas.events.base import new_event
from shared_schemas.messaging import Outcome
from tests.support.erp import Erp, quote_accepted

pytestmark = pytest.mark.api


async def setup(erp: Erp, widgets: int = 10) -> dict[str, Any]:
    await erp.warehouse("MAIN")
    product = await erp.product("WIDGET", "250.00", tax_rate="19")
    if widgets:
        await erp.receive("WIDGET", widgets)
    return product


async def test_an_accepted_quote_becomes_one_confirmed_order_at_the_quoted_prices(
    erp: Erp,
) -> None:
    product = await setup(erp)
    customer_id = await erp.customer()
    quote = quote_accepted(customer_id, [("WIDGET", 2, "199.99", "5", "19")])
    assert await erp.publish(quote) is Outcome.APPLIED
    [order] = await erp.orders_of_quote(quote.quote_id)
    assert order["status"] == "confirmed"
    assert order["quote_id"] == str(quote.quote_id)
    assert order["created_by"] == "erp-service"
    [line] = order["lines"]
    assert line["product_id"] == product["id"]
    assert (line["unit_price"], line["discount_pct"], line["tax_rate"]) == ("199.99", "5", "19")
    assert (line["line_net"], line["line_tax"]) == ("379.98", "72.20")
    assert line["quantity_reserved"] == 2
    assert order["total"] == f"{quote.total:.2f}"
    assert order["subtotal"] == f"{quote.subtotal:.2f}"
    assert order["customer_snapshot"] == quote.customer.model_dump(mode="json")

    [created] = await erp.events("erp.order.created.v1")
    assert created["actor"] == "erp-service"
    assert created["data"]["quote_id"] == str(quote.quote_id)
    assert created["data"]["total"] == f"{quote.total:.2f}"
    [confirmed] = await erp.events("erp.order.confirmed.v1")
    assert confirmed["actor"] == "erp-service"
    assert confirmed["data"]["quote_id"] == str(quote.quote_id)


async def test_a_quote_delivered_twice_or_resent_under_a_new_id_makes_one_order(
    erp: Erp,
) -> None:
    await setup(erp)
    customer_id = await erp.customer()
    quote = quote_accepted(customer_id, [("WIDGET", 1, "250.00")])
    event = new_event(quote, source="crm-service", actor="crm-service")
    assert await erp.deliver(event) is Outcome.APPLIED
    assert await erp.deliver(event) is Outcome.DUPLICATE
    assert await erp.publish(quote) is Outcome.SUPERSEDED
    assert len(await erp.orders_of_quote(quote.quote_id)) == 1
    assert len(await erp.events("erp.order.created.v1")) == 1
    level = await erp.stock_level("WIDGET")
    assert level is not None
    assert level["reserved"] == 1
    # Another quote of the same customer is another order.
    assert await erp.publish(quote_accepted(customer_id, [("WIDGET", 1, "250.00")])) is (
        Outcome.APPLIED
    )
    assert len(await erp.events("erp.order.created.v1")) == 2


async def test_the_snapshot_alone_is_enough_and_starts_the_customer_replica(erp: Erp) -> None:
    await setup(erp)
    customer_id = uuid.uuid4()  # CRM's customer events have not arrived
    quote = quote_accepted(customer_id, [("WIDGET", 1, "250.00")], customer_name="New Co")
    assert await erp.publish(quote) is Outcome.APPLIED
    [order] = await erp.orders_of_quote(quote.quote_id)
    assert order["status"] == "confirmed"
    assert order["customer_id"] == str(customer_id)
    # Later orders see the customer the snapshot brought.
    later = await erp.order(customer_id, [("WIDGET", 1)])
    assert later["customer_snapshot"]["name"] == "New Co"
    assert later["customer_snapshot"]["billing_address"]["city"] == "Berlin"


async def test_a_newer_snapshot_refreshes_the_replica_and_its_credit_limit_counts(
    erp: Erp,
) -> None:
    await setup(erp)
    customer_id = await erp.customer(credit_limit=None, version=1)
    quote = quote_accepted(
        customer_id, [("WIDGET", 1, "250.00")], credit_limit="100.00", customer_version=2
    )
    await erp.publish(quote)
    [held] = await erp.orders_of_quote(quote.quote_id)
    assert held["status"] == "on_hold"
    [on_hold] = await erp.events("erp.order.on_hold.v1")
    assert on_hold["data"]["credit_limit"] == "100.00"
    # The replica now has version 2 and its limit: an API order is held as well.
    api_order = await erp.order(customer_id, [("WIDGET", 1)])
    assert api_order["status"] == "on_hold"
    assert api_order["customer_snapshot"]["version"] == 2


async def test_an_older_snapshot_leaves_the_newer_replica_alone(erp: Erp) -> None:
    await setup(erp)
    customer_id = await erp.customer(credit_limit=None, version=5, name="Acme Renamed")
    quote = quote_accepted(
        customer_id, [("WIDGET", 1, "250.00")], credit_limit="1.00", customer_version=2
    )
    await erp.publish(quote)
    [order] = await erp.orders_of_quote(quote.quote_id)
    # The replica (version 5, no limit) is newer than the snapshot: its limit counts.
    assert order["status"] == "confirmed"
    assert order["customer_snapshot"]["version"] == 2
    api_order = await erp.order(customer_id, [("WIDGET", 1)])
    assert api_order["customer_snapshot"]["name"] == "Acme Renamed"
    assert api_order["customer_snapshot"]["version"] == 5


async def test_a_quote_short_of_stock_is_backordered(erp: Erp) -> None:
    await setup(erp, widgets=1)
    customer_id = await erp.customer()
    quote = quote_accepted(customer_id, [("WIDGET", 3, "250.00")])
    await erp.publish(quote)
    [order] = await erp.orders_of_quote(quote.quote_id)
    assert order["status"] == "backordered"
    [backordered] = await erp.events("erp.order.backordered.v1")
    assert backordered["data"]["quote_id"] == str(quote.quote_id)


async def test_a_quote_for_an_unknown_sku_fails_whole_until_the_product_exists(
    erp: Erp,
) -> None:
    await setup(erp)
    customer_id = uuid.uuid4()
    quote = quote_accepted(customer_id, [("WIDGET", 1, "250.00"), ("LATER", 2, "10.00")])
    event = new_event(quote, source="crm-service", actor="crm-service")
    # Raising makes the consumer retry and then dead-letter the event; nothing is kept,
    # not even the inbox row, so replaying the dead letter applies it.
    with pytest.raises(RuleViolation) as refused:
        await erp.deliver(event)
    assert refused.value.errors == [{"field": "lines.1.sku", "message": "no product 'LATER'"}]
    assert await erp.orders_of_quote(quote.quote_id) == []
    assert await erp.events("erp.order.created.v1") == []
    await erp.product("LATER", "10.00")
    assert await erp.deliver(event) is Outcome.APPLIED
    [order] = await erp.orders_of_quote(quote.quote_id)
    assert order["status"] == "backordered"  # nothing of LATER is in stock yet


async def test_a_product_deactivated_after_quoting_is_still_ordered(erp: Erp) -> None:
    product = await setup(erp)
    response = await erp.client.patch(
        f"/products/{product['id']}", json={"active": False}, headers=erp.headers("warehouse")
    )
    assert response.status_code == 200
    customer_id = await erp.customer()
    quote = quote_accepted(customer_id, [("WIDGET", 1, "250.00")])
    assert await erp.publish(quote) is Outcome.APPLIED
    [order] = await erp.orders_of_quote(quote.quote_id)
    assert order["status"] == "confirmed"


async def test_a_quote_in_another_currency_is_refused(erp: Erp) -> None:
    await setup(erp)
    customer_id = await erp.customer()
    quote = quote_accepted(customer_id, [("WIDGET", 1, "250.00")], currency="USD")
    with pytest.raises(RuleViolation) as refused:
        await erp.publish(quote)
    assert refused.value.errors == [{"field": "currency", "message": "must be EUR"}]
    assert await erp.orders_of_quote(quote.quote_id) == []
    assert await erp.events("erp.order.created.v1") == []
    level = await erp.stock_level("WIDGET")
    assert level is not None
    assert (level["reserved"], level["available"]) == (0, 10)
