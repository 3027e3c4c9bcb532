"""A run of accepted quotes applied in one transaction (how the consumer drains a backlog)
ends exactly as applying them one after another would: credit limits count the run's
earlier orders, stock goes first come first served, a quote twice in the run is one
order, and every event names the quote event that caused it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared_schemas.domain import RuleViolation
from shared_schemas.events.base import CloudEvent, new_event
from shared_schemas.events.crm.quotes import QuoteAccepted
from shared_schemas.messaging import Outcome
from tests.support.erp import Erp, quote_accepted

pytestmark = pytest.mark.api


def as_events(*quotes: QuoteAccepted) -> list[CloudEvent[Any]]:
    return [new_event(quote, source="crm-service", actor="crm-service") for quote in quotes]


async def apply_in_one_transaction(erp: Erp, events: list[CloudEvent[Any]]) -> list[Outcome]:
    parsed = [erp.applier.parse(event.model_dump_json().encode()) for event in events]
    assert all(item is not None for item in parsed)
    return await erp.applier.apply_batch([item for item in parsed if item is not None])


async def test_a_run_of_quotes_checks_credit_and_stock_in_the_order_given(erp: Erp) -> None:
    await erp.warehouse("MAIN")
    await erp.product("WIDGET", "100.00", tax_rate="0")
    await erp.receive("WIDGET", 5)
    limited, other = uuid.uuid4(), uuid.uuid4()
    quotes = [
        # 400 + 400 fit a limit of 1,000; the third 400 does not and is held.
        quote_accepted(limited, [("WIDGET", 1, "400.00", "0", "0")], credit_limit="1000.00"),
        quote_accepted(limited, [("WIDGET", 1, "400.00", "0", "0")], credit_limit="1000.00"),
        quote_accepted(limited, [("WIDGET", 1, "400.00", "0", "0")], credit_limit="1000.00"),
        # 5 on hand: 2 went above, these take 2 and then the last 1 of 3.
        quote_accepted(other, [("WIDGET", 2, "100.00", "0", "0")]),
        quote_accepted(other, [("WIDGET", 3, "100.00", "0", "0")]),
    ]
    outcomes = await apply_in_one_transaction(erp, as_events(*quotes))
    assert outcomes == [Outcome.APPLIED] * 5

    made = [(await erp.orders_of_quote(quote.quote_id))[0] for quote in quotes]
    assert [order["status"] for order in made] == [
        "confirmed",
        "confirmed",
        "on_hold",
        "confirmed",
        "backordered",
    ]
    assert [line["quantity_reserved"] for order in made for line in order["lines"]] == [
        1,
        1,
        0,
        2,
        1,
    ]
    numbers = [order["number"] for order in made]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 5
    # Every order was created (version 1) and then changed once: the row and its last
    # event agree on version 2.
    assert {order["version"] for order in made} == {2}
    level = await erp.stock_level("WIDGET")
    assert level is not None
    assert (level["on_hand"], level["reserved"], level["available"]) == (5, 5, 0)
    assert (await erp.stock_check())["drift"] == []
    held = await erp.events("erp.order.on_hold.v1")
    assert [event["data"]["credit_exposure"] for event in held] == ["1200.00"]


async def test_each_order_event_names_the_quote_event_that_caused_it(erp: Erp) -> None:
    await erp.warehouse("MAIN")
    await erp.product("WIDGET", "10.00")
    await erp.receive("WIDGET", 10)
    customer = uuid.uuid4()
    events = as_events(
        quote_accepted(customer, [("WIDGET", 1, "10.00")]),
        quote_accepted(customer, [("WIDGET", 2, "10.00")]),
    )
    await apply_in_one_transaction(erp, events)

    for event in events:
        [order] = await erp.orders_of_quote(event.data.quote_id)
        caused = [recorded for recorded in await erp.events() if recorded["subject"] == order["id"]]
        assert [recorded["type"] for recorded in caused] == [
            "erp.order.created.v1",
            "erp.order.confirmed.v1",
        ]
        assert {recorded["causationid"] for recorded in caused} == {str(event.id)}
        assert [recorded["data"]["version"] for recorded in caused] == [1, 2]


async def test_a_quote_twice_in_one_run_or_already_ordered_is_one_order(erp: Erp) -> None:
    await erp.warehouse("MAIN")
    await erp.product("WIDGET", "10.00")
    await erp.receive("WIDGET", 10)
    customer = uuid.uuid4()
    earlier = quote_accepted(customer, [("WIDGET", 1, "10.00")])
    assert await erp.publish(earlier) is Outcome.APPLIED
    twice = quote_accepted(customer, [("WIDGET", 2, "10.00")])
    first, resent, again = as_events(twice, twice, earlier)
    outcomes = await apply_in_one_transaction(erp, [first, first, resent, again])
    assert outcomes == [
        Outcome.APPLIED,
        Outcome.DUPLICATE,
        Outcome.SUPERSEDED,
        Outcome.SUPERSEDED,
    ]
    assert len(await erp.orders_of_quote(twice.quote_id)) == 1
    assert len(await erp.orders_of_quote(earlier.quote_id)) == 1
    level = await erp.stock_level("WIDGET")
    assert level is not None
    assert level["reserved"] == 3
    created = await erp.events("erp.order.created.v1")
    assert sorted(event["data"]["quote_id"] for event in created) == sorted(
        [str(earlier.quote_id), str(twice.quote_id)]
    )


async def test_one_unorderable_quote_fails_the_run_and_changes_nothing(erp: Erp) -> None:
    await erp.warehouse("MAIN")
    await erp.product("WIDGET", "10.00")
    await erp.receive("WIDGET", 10)
    customer = uuid.uuid4()
    good = quote_accepted(customer, [("WIDGET", 1, "10.00")])
    unknown = quote_accepted(customer, [("NO-SUCH-SKU", 1, "10.00")])
    events = await erp.events()
    run = as_events(good, unknown)
    with pytest.raises(RuleViolation, match="cannot be put on the order"):
        await apply_in_one_transaction(erp, run)
    assert await erp.orders_of_quote(good.quote_id) == []
    level = await erp.stock_level("WIDGET")
    assert level is not None
    assert level["reserved"] == 0
    assert await erp.events() == events
    # Not even the good quote's inbox row was kept: delivered again on its own, it is
    # applied, not taken for a duplicate.
    assert await erp.deliver(run[0]) is Outcome.APPLIED
    assert len(await erp.orders_of_quote(good.quote_id)) == 1


async def test_a_newer_snapshot_in_the_run_counts_from_its_own_order_on(erp: Erp) -> None:
    await erp.warehouse("MAIN")
    await erp.product("WIDGET", "10.00", tax_rate="0")
    await erp.receive("WIDGET", 100)
    customer = uuid.uuid4()
    generous = quote_accepted(
        customer, [("WIDGET", 40, "10.00", "0", "0")], credit_limit="1000.00", customer_version=1
    )
    strict = quote_accepted(
        customer,
        [("WIDGET", 5, "10.00", "0", "0")],
        credit_limit="100.00",
        customer_version=2,
        customer_name="Acme AG",
    )
    await apply_in_one_transaction(erp, as_events(generous, strict))

    [first] = await erp.orders_of_quote(generous.quote_id)
    [second] = await erp.orders_of_quote(strict.quote_id)
    assert (first["status"], first["customer_snapshot"]["name"]) == ("confirmed", "Acme GmbH")
    assert (second["status"], second["customer_snapshot"]["name"]) == ("on_hold", "Acme AG")
    [held] = await erp.events("erp.order.on_hold.v1")
    assert (held["data"]["credit_limit"], held["data"]["credit_exposure"]) == ("100.00", "450.00")


async def test_backorders_of_one_run_are_filled_in_the_order_their_quotes_came(erp: Erp) -> None:
    await erp.warehouse("MAIN")
    await erp.product("WIDGET", "10.00")
    customer = uuid.uuid4()
    quotes = [quote_accepted(customer, [("WIDGET", 1, "10.00")]) for _ in range(8)]
    await apply_in_one_transaction(erp, as_events(*quotes))
    made = [(await erp.orders_of_quote(quote.quote_id))[0] for quote in quotes]
    assert {order["status"] for order in made} == {"backordered"}
    assert [order["number"] for order in made] == sorted(order["number"] for order in made)

    await erp.receive("WIDGET", 3)
    await erp.receive("WIDGET", 2)

    statuses = [(await erp.orders_of_quote(quote.quote_id))[0]["status"] for quote in quotes]
    assert statuses == ["confirmed"] * 5 + ["backordered"] * 3
