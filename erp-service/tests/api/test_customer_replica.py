"""The customer replica: an archive that arrives before the customer stays. Seen the way
a user sees it: which customer an order is taken for, and whether it is taken at all."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from shared_schemas.events.crm.customers import (
    CustomerArchived,
    CustomerCreated,
    CustomerUpdated,
)
from shared_schemas.messaging import Outcome
from tests.support.erp import Erp, quote_accepted

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
