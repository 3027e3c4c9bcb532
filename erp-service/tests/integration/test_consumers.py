"""The ERP's consumer against the real broker: CRM's accepted quotes and customer events put
on their topics, their effects read back through the ERP's HTTP API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from erp.adapters.replicas import CustomerReplica
from shared_schemas.broker import EmbeddedBroker
from shared_schemas.events.base import new_event
from shared_schemas.events.crm.customers import (
    CustomerArchived,
    CustomerCreated,
    CustomerUpdated,
)
from shared_schemas.events.values import Address, FieldChange
from shared_schemas.messaging import KafkaSettings
from tests.support.erp import LiveErp, live_erp, quote_accepted
from tests.support.kafka_tools import until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def live(module_database: str, broker: EmbeddedBroker) -> AsyncIterator[LiveErp]:
    """One consumer per backend for the module: joining a group costs seconds, a test here
    well under one. Every test works on skus and customers of its own, so they share it
    safely; orders need a default warehouse, made once."""
    kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, session_timeout_ms=6_000)
    async with live_erp(module_database, kafka) as started:
        await started.erp.warehouse("MAIN")
        yield started


async def stocked_product(live: LiveErp, units: int, unit_price: str = "250.00") -> str:
    """A product of its own (19 % tax) with `units` received into the default warehouse."""
    sku = f"SKU-{uuid.uuid4().hex[:8].upper()}"
    await live.erp.product(sku, unit_price)
    if units:
        await live.erp.receive(sku, units)
    return sku


async def placed(live: LiveErp, quote_id: uuid.UUID) -> dict[str, Any]:
    """The order made from the quote, once there is one."""
    orders = await until(
        lambda: live.erp.orders_of_quote(quote_id), bool, f"an order for quote {quote_id}"
    )
    assert len(orders) == 1, orders
    return dict(orders[0])


async def test_an_accepted_quote_redelivered_and_resent_is_one_order_reserved_once(
    live: LiveErp,
) -> None:
    sku = await stocked_product(live, 10)
    quote = quote_accepted(uuid.uuid4(), [(sku, 3, "199.99", "5", "19")])
    accepted = new_event(quote, source="crm-service", actor="crm-service")
    await live.crm.deliver(accepted)

    order = await placed(live, quote.quote_id)
    assert order["status"] == "confirmed"
    assert order["created_by"] == "erp-service"
    [line] = order["lines"]
    assert (line["sku"], line["quantity"], line["quantity_reserved"]) == (sku, 3, 3)
    prices = (line["unit_price"], line["discount_pct"], line["line_net"], line["line_tax"])
    assert prices == ("199.99", "5", "569.97", "108.29"), "the quote's prices, not the list's"
    assert order["total"] == f"{quote.total:.2f}"

    # The same CloudEvent twice more (a redelivery), then the quote again under a new
    # event id; all keyed by the quote, so the resent copy is taken after the others.
    await live.crm.deliver(accepted)
    await live.crm.deliver(accepted)
    resent = await live.crm.publish(quote)
    await live.consumed(resent)

    assert await live.erp.orders_of_quote(quote.quote_id) == [order], "nothing changed"
    level = await live.erp.stock_level(sku)
    assert level is not None
    assert (level["on_hand"], level["reserved"], level["available"]) == (10, 3, 7)
    movements = await live.client.get(
        "/stock/movements",
        params={"order_id": order["id"], "kind": "reservation"},
        headers=live.erp.headers("warehouse"),
    )
    assert movements.status_code == 200, movements.text
    reservations = [(m["sku"], m["reserved_delta"]) for m in movements.json()["items"]]
    assert reservations == [(sku, 3)]


async def test_the_customer_replica_keeps_the_newest_version(live: LiveErp) -> None:
    sku = await stocked_product(live, 0)
    customer_id = uuid.uuid4()
    first = CustomerCreated(
        version=1,
        customer_id=customer_id,
        kind="company",
        name="Globex",
        email="buy@globex.example",
        owner_id=None,
        credit_limit=None,
        payment_terms_days=30,
    )
    moved = Address(street="Industriestr. 5", city="Hamburg", country="DE")
    newest = CustomerUpdated(
        **{
            **first.model_dump(),
            "version": 3,
            "name": "Globex Corporation",
            "billing_address": moved,
            "credit_limit": Decimal("500.00"),
        },
        changes=[
            FieldChange(field="name", before="Globex Ltd", after="Globex Corporation"),
            FieldChange(field="credit_limit", before=None, after="500.00"),
        ],
    )
    stale = CustomerUpdated(
        **{**first.model_dump(), "version": 2, "name": "Globex Ltd"},
        changes=[FieldChange(field="name", before="Globex", after="Globex Ltd")],
    )
    await live.crm.publish(first)
    await live.crm.publish(newest)
    late = await live.crm.publish(stale)
    await live.consumed(late)

    # An order through the API checks credit against the replica and keeps its snapshot.
    order = await live.erp.order(customer_id, [(sku, 2)])
    snapshot = order["customer_snapshot"]
    assert (snapshot["version"], snapshot["name"]) == (3, "Globex Corporation")
    assert snapshot["billing_address"]["city"] == "Hamburg"
    assert snapshot["credit_limit"] == "500.00"
    assert order["total"] == "595.00"
    assert (order["status"], order["hold_reason"]) == ("on_hold", "credit_limit_exceeded")


async def test_a_quote_of_a_customer_erp_never_heard_of_becomes_an_order(live: LiveErp) -> None:
    sku = await stocked_product(live, 5)
    stranger = uuid.uuid4()  # CRM's customer events never arrived
    quote = quote_accepted(stranger, [(sku, 2, "250.00")], customer_name="Initech")
    await live.crm.publish(quote)

    order = await placed(live, quote.quote_id)
    assert order["status"] == "confirmed"
    assert order["customer_id"] == str(stranger)
    assert order["customer_snapshot"] == quote.customer.model_dump(mode="json")
    level = await live.erp.stock_level(sku)
    assert level is not None
    assert (level["reserved"], level["available"]) == (2, 3)

    # The snapshot started the replica: the customer can now order through the API.
    later = await live.erp.order(stranger, [(sku, 1)])
    assert later["status"] == "confirmed"
    assert later["customer_snapshot"]["name"] == "Initech"


async def test_an_archive_that_arrives_first_brings_the_customers_state(live: LiveErp) -> None:
    sku = await stocked_product(live, 5)
    customer_id = uuid.uuid4()
    state: dict[str, Any] = {
        "customer_id": customer_id,
        "kind": "company",
        "name": "Initrode",
        "email": "buy@initrode.example",
        "billing_address": Address(street="Hafenweg 2", city="Bremen", country="DE"),
        "owner_id": None,
        "credit_limit": Decimal("100.00"),
        "payment_terms_days": 14,
    }
    created = CustomerCreated(version=1, **state)
    renamed = CustomerUpdated(
        version=2,
        **{**state, "name": "Initrode AG"},
        changes=[FieldChange(field="name", before="Initrode", after="Initrode AG")],
    )
    archived = CustomerArchived(version=3, **{**state, "name": "Initrode AG"})
    # The archive comes first; the older events after it (replayed from the dead letters,
    # say) are stale and change nothing.
    await live.crm.publish(archived)
    await live.crm.publish(created)
    late = await live.crm.publish(renamed)
    await live.consumed(late)

    async with live.erp.engine.connect() as connection:
        row = (
            await connection.execute(
                select(CustomerReplica).where(CustomerReplica.id == customer_id)
            )
        ).one()
    assert (row.version, row.archived, row.kind, row.name, row.email) == (
        3,
        True,
        "company",
        "Initrode AG",
        "buy@initrode.example",
    )
    assert (row.credit_limit, row.payment_terms_days) == (Decimal("100.00"), 14)
    assert row.billing_address["city"] == "Bremen"

    # A quote accepted before the archive still becomes its order, credit checked against
    # the limit the replica holds from the archive, not the older snapshot's.
    quote = quote_accepted(
        customer_id, [(sku, 1, "250.00")], credit_limit="5000.00", customer_version=2
    )
    await live.crm.publish(quote)
    order = await placed(live, quote.quote_id)
    assert (order["status"], order["hold_reason"]) == ("on_hold", "credit_limit_exceeded")
