"""The customer replica keeps the newest version CRM reported, whichever way it arrived (a
customer event or an accepted quote's snapshot) and in whatever order, also when both
write at once; an archive that arrives before the customer stays. Seen the way a user
sees it: which customer an order is taken for, and whether it is taken at all."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from erp.integration import customers
from shared_schemas.database import session_factory
from shared_schemas.events.base import CloudEvent, new_event
from shared_schemas.events.crm.customers import (
    CustomerArchived,
    CustomerCreated,
    CustomerUpdated,
)
from shared_schemas.messaging import Outcome
from tests.support.erp import Erp, quote_accepted
from tests.support.kafka_tools import until
from tests.support.races import lock_waiters, require_postgresql

pytestmark = pytest.mark.api


def updated(customer_id: uuid.UUID, version: int, **state: Any) -> CustomerUpdated:
    values: dict[str, Any] = {
        "kind": "company",
        "name": f"Acme v{version}",
        "owner_id": None,
        "credit_limit": None,
        "payment_terms_days": 30,
        "changes": [],
        **state,
    }
    return CustomerUpdated(version=version, customer_id=customer_id, **values)


async def stock_up(erp: Erp) -> None:
    await erp.warehouse("BER")
    await erp.product("WIDGET-1")
    await erp.receive("WIDGET-1", 100)


async def customer_as_ordered(erp: Erp, customer_id: uuid.UUID) -> dict[str, Any]:
    """The customer as a new `POST /orders` takes it from the replica."""
    order = await erp.order(customer_id, [("WIDGET-1", 1)])
    return dict(order["customer_snapshot"])


async def refused_order(erp: Erp, customer_id: uuid.UUID) -> dict[str, Any]:
    body = {"customer_id": str(customer_id), "lines": [{"sku": "WIDGET-1", "quantity": 1}]}
    response = await erp.client.post("/orders", json=body, headers=erp.headers("sales"))
    assert response.status_code == 422, response.text
    return dict(response.json())


async def test_a_customer_event_older_than_a_quotes_snapshot_changes_nothing(erp: Erp) -> None:
    await stock_up(erp)
    customer_id = await erp.customer(version=3)
    accepted = quote_accepted(
        customer_id, [("WIDGET-1", 1, "100.00")], customer_version=5, customer_name="Acme v5"
    )
    assert await erp.publish(accepted) is Outcome.APPLIED
    assert await erp.publish(updated(customer_id, 4)) is Outcome.SUPERSEDED
    seen = await customer_as_ordered(erp, customer_id)
    assert (seen["version"], seen["name"]) == (5, "Acme v5")


async def test_a_quotes_snapshot_older_than_the_customer_event_changes_nothing(erp: Erp) -> None:
    await stock_up(erp)
    customer_id = await erp.customer(version=3)
    assert await erp.publish(updated(customer_id, 5)) is Outcome.APPLIED
    accepted = quote_accepted(
        customer_id, [("WIDGET-1", 1, "100.00")], customer_version=4, customer_name="Acme v4"
    )
    assert await erp.publish(accepted) is Outcome.APPLIED
    [from_quote] = await erp.orders_of_quote(accepted.quote_id)
    assert from_quote["customer_snapshot"]["version"] == 4  # the quote keeps what it showed
    seen = await customer_as_ordered(erp, customer_id)
    assert (seen["version"], seen["name"]) == (5, "Acme v5")


@asynccontextmanager
async def applying(erp: Erp, event: CloudEvent[Any]) -> AsyncIterator[AsyncSession]:
    """The consumer's handler has applied `event` in a transaction that is still open; it
    commits when the block ends."""
    async with session_factory(erp.engine)() as session, session.begin():
        assert await customers.apply_customer(session, event) is None
        yield session


async def waiting_or_done(erp: Erp, task: asyncio.Task[Any]) -> None:
    """Until `task` has finished or waits for a lock another transaction holds."""

    async def read() -> tuple[bool, int]:
        return task.done(), await lock_waiters(erp.engine)

    await until(read, lambda seen: seen[0] or seen[1] > 0, "the quote's order done or waiting")


async def test_a_customer_event_and_a_newer_snapshot_at_once_keep_the_newer(erp: Erp) -> None:
    require_postgresql(erp.engine)
    await stock_up(erp)
    customer_id = await erp.customer(version=3)
    event = new_event(updated(customer_id, 4), source="crm-service", actor="crm-service")
    accepted = quote_accepted(
        customer_id, [("WIDGET-1", 1, "100.00")], customer_version=5, customer_name="Acme v5"
    )
    async with applying(erp, event):
        # Version 4 is applied, not committed: the quote with version 5 comes in between.
        quote = asyncio.create_task(erp.publish(accepted))
        await waiting_or_done(erp, quote)
    assert await quote is Outcome.APPLIED
    seen = await customer_as_ordered(erp, customer_id)
    assert (seen["version"], seen["name"]) == (5, "Acme v5")


async def test_a_new_customers_event_and_an_older_snapshot_at_once_keep_the_event(
    erp: Erp,
) -> None:
    require_postgresql(erp.engine)
    await stock_up(erp)
    customer_id = uuid.uuid4()  # not known to ERP yet: both writers would create its row
    event = new_event(updated(customer_id, 5), source="crm-service", actor="crm-service")
    accepted = quote_accepted(
        customer_id, [("WIDGET-1", 1, "100.00")], customer_version=4, customer_name="Acme v4"
    )
    async with applying(erp, event):
        quote = asyncio.create_task(erp.publish(accepted))
        await waiting_or_done(erp, quote)
    assert await quote is Outcome.APPLIED
    [from_quote] = await erp.orders_of_quote(accepted.quote_id)
    assert from_quote["status"] == "confirmed"
    seen = await customer_as_ordered(erp, customer_id)
    assert (seen["version"], seen["name"]) == (5, "Acme v5")


async def test_an_archive_before_the_customer_keeps_it_archived(erp: Erp) -> None:
    await stock_up(erp)
    customer_id = uuid.uuid4()
    archived = CustomerArchived(version=3, customer_id=customer_id)
    assert await erp.publish(archived) is Outcome.APPLIED
    # Its creation arrives late (replayed from the dead letters, say): stale.
    created = CustomerCreated(
        **updated(customer_id, 1).model_dump(exclude={"version", "changes"}), version=1
    )
    assert await erp.publish(created) is Outcome.SUPERSEDED
    assert await erp.publish(updated(customer_id, 2)) is Outcome.SUPERSEDED
    refused = await refused_order(erp, customer_id)
    assert refused["errors"] == [{"field": "customer_id", "message": "no such active customer"}]
    assert await erp.events("erp.order.created.v1") == []

    # A quote accepted before the archive still becomes its order, credit checked against
    # the limit its snapshot carries (the replica knows none).
    accepted = quote_accepted(
        customer_id, [("WIDGET-1", 1, "100.00")], credit_limit="50.00", customer_version=2
    )
    assert await erp.publish(accepted) is Outcome.APPLIED
    [held] = await erp.orders_of_quote(accepted.quote_id)
    assert held["status"] == "on_hold"
    assert held["customer_snapshot"]["name"] == "Acme GmbH"
    await refused_order(erp, customer_id)

    # Restored in CRM (a newer full state): orders are taken again.
    restored = updated(customer_id, 4, credit_limit=Decimal("5000.00"), archived=False)
    assert await erp.publish(restored) is Outcome.APPLIED
    seen = await customer_as_ordered(erp, customer_id)
    assert (seen["version"], seen["name"], seen["credit_limit"]) == (4, "Acme v4", "5000.00")


async def test_an_archive_older_than_what_the_replica_holds_changes_nothing(erp: Erp) -> None:
    await stock_up(erp)
    customer_id = await erp.customer(version=1)
    assert await erp.publish(updated(customer_id, 3)) is Outcome.APPLIED
    stale = CustomerArchived(version=2, customer_id=customer_id)
    assert await erp.publish(stale) is Outcome.SUPERSEDED
    seen = await customer_as_ordered(erp, customer_id)
    assert (seen["version"], seen["name"]) == (3, "Acme v3")


async def test_a_quote_accepted_after_a_restore_takes_the_customer_out_of_the_archive(
    erp: Erp,
) -> None:
    await stock_up(erp)
    customer_id = await erp.customer(version=1)
    archived = CustomerArchived(
        **updated(customer_id, 2).model_dump(exclude={"version", "changes", "archived"}),
        version=2,
    )
    assert await erp.publish(archived) is Outcome.APPLIED
    await refused_order(erp, customer_id)

    # Restored in CRM (version 3) and a quote accepted at once (CRM accepts quotes of
    # active customers only): the quote's event arrives before the restore's.
    accepted = quote_accepted(
        customer_id, [("WIDGET-1", 1, "100.00")], customer_version=3, customer_name="Acme v3"
    )
    assert await erp.publish(accepted) is Outcome.APPLIED
    restored = updated(customer_id, 3, archived=False)
    assert await erp.publish(restored) is Outcome.SUPERSEDED

    seen = await customer_as_ordered(erp, customer_id)
    assert (seen["version"], seen["name"]) == (3, "Acme v3")
