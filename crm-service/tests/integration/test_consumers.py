"""The CRM's consumer against the real broker: ERP's product, employee, order and invoice
events put on their topics, their effects read back through the CRM's HTTP API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from crm.adapters.replicas import InvoiceReplica, OrderReplica
from shared_schemas.broker import EmbeddedBroker
from shared_schemas.events.erp.employees import EmployeeTerminated
from shared_schemas.events.erp.products import ProductUpdated
from shared_schemas.messaging import KafkaSettings
from tests.support.crm import ErpInvoice, ErpOrder, LiveCrm, live_crm, order_line
from tests.support.kafka_tools import until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def live(module_database: str, broker: EmbeddedBroker) -> AsyncIterator[LiveCrm]:
    """One consumer per backend for the module: joining a group costs ~3 s, a test here
    well under one. Every test works on ids of its own, so they share it safely."""
    kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, session_timeout_ms=6_000)
    async with live_crm(module_database, kafka) as started:
        yield started


def order_for(customer: dict[str, Any], quote: dict[str, Any] | None = None) -> ErpOrder:
    lines = (
        [
            order_line(line["sku"], line["quantity"], line["unit_price"], line["tax_rate"])
            for line in quote["lines"]
        ]
        if quote
        else [order_line()]
    )
    return ErpOrder(
        customer_id=uuid.UUID(customer["id"]),
        quote_id=uuid.UUID(quote["id"]) if quote else None,
        lines=lines,
    )


def kinds(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["kind"] for entry in entries]


async def test_quote_lines_default_to_the_price_erp_last_published(live: LiveCrm) -> None:
    rep = (await live.hire()).employee_id
    customer = await live.customer_of(rep)
    created = await live.product(unit_price="120.00", tax_rate="7")
    sku = created.sku
    quote = await live.draft_quote(rep, customer["id"], sku)
    [line] = quote["lines"]
    assert (line["unit_price"], line["tax_rate"], line["name"]) == ("120.00", "7", created.name)
    assert quote["total"] == "256.80"

    repriced = {**created.model_dump(), "version": 2, "unit_price": Decimal("99.50")}
    await live.erp.publish(ProductUpdated(**repriced))

    async def reprice_draft() -> dict[str, Any]:
        response = await live.client.patch(
            f"/quotes/{quote['id']}",
            json={"lines": [{"sku": sku, "quantity": 2}]},
            headers=live.as_("sales", rep),
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    repriced_quote = await until(
        reprice_draft, lambda q: q["lines"][0]["unit_price"] == "99.50", "the new price"
    )
    assert repriced_quote["total"] == "212.93"


async def test_hired_reps_own_customers_and_a_leavers_customers_go_to_their_manager(
    live: LiveCrm,
) -> None:
    manager = await live.hire("sales_manager")
    rep = await live.hire(manager_id=manager.employee_id)
    loner = await live.hire(manager_id=None)
    kept = await live.customer_of(rep.employee_id)
    orphaned = await live.customer_of(loner.employee_id)
    assert kept["owner_id"] == str(rep.employee_id)
    updates_before = len(await live.crm.events("crm.customer.updated.v1"))

    for leaver in (rep, loner):
        await live.erp.publish(
            EmployeeTerminated(
                **leaver.model_dump(exclude={"version", "status", "terminated_on"}),
                version=2,
                terminated_on=date(2026, 11, 20),
            )
        )

    moved = await until(
        lambda: live.customer(kept["id"]),
        lambda c: c["owner_id"] == str(manager.employee_id),
        "the manager owns the leaver's customer",
    )
    assert moved["version"] == kept["version"] + 1
    unassigned = await until(
        lambda: live.customer(orphaned["id"]), lambda c: c["owner_id"] is None, "nobody owns it"
    )
    assert unassigned["version"] == orphaned["version"] + 1

    [note] = await live.timeline(kept["id"], "activity.note")
    assert "reassigned to their manager" in note["title"]
    assert rep.name in (note["summary"] or "")
    [orphan_note] = await live.timeline(orphaned["id"], "activity.note")
    assert "to nobody" in orphan_note["title"]

    updates = (await live.crm.events("crm.customer.updated.v1"))[updates_before:]
    changes = {
        event["subject"]: (event["data"]["version"], event["data"]["changes"]) for event in updates
    }
    assert changes[kept["id"]] == (
        moved["version"],
        [{"field": "owner_id", "before": str(rep.employee_id), "after": str(manager.employee_id)}],
    )
    assert changes[orphaned["id"]][1] == [
        {"field": "owner_id", "before": str(loner.employee_id), "after": None}
    ]

    refused = await live.client.post(
        "/customers",
        json={"kind": "person", "name": "Pat", "owner_id": str(rep.employee_id)},
        headers=live.as_("sales_manager"),
    )
    assert refused.status_code == 422, "a terminated employee cannot own customers"


async def test_an_order_shows_on_its_quote_its_customer_and_the_timeline(live: LiveCrm) -> None:
    _rep, customer, quote = await live.accepted_quote()
    order = order_for(customer, quote)
    created = await live.erp.publish(order.created())

    on_quote = await until(
        lambda: live.quote(quote["id"]), lambda q: q["order_status"] == "pending", "order on quote"
    )
    assert (on_quote["order_id"], on_quote["order_number"]) == (str(order.order_id), order.number)
    assert on_quote["order_version"] == 1
    assert on_quote["etag"] == f'"{quote["version"]}"', "ERP facts leave the quote's version"
    ordered = await live.customer(customer["id"])
    assert ordered["last_order_id"] == str(order.order_id)
    assert ordered["last_order_number"] == order.number
    assert ordered["last_order_at"] == created.time.isoformat().replace("+00:00", "Z")

    for data in (order.confirmed(), order.shipped("DHL", "JJD0099"), order.delivered()):
        await live.erp.publish(data)
    delivered = await until(
        lambda: live.quote(quote["id"]), lambda q: q["order_status"] == "delivered", "delivered"
    )
    assert delivered["order_version"] == 4
    assert delivered["version"] == quote["version"]

    entries = await live.timeline(customer["id"], "order")
    assert kinds(entries) == [
        "order.delivered",
        "order.shipped",
        "order.confirmed",
        "order.created",
    ]
    shipped = entries[1]
    assert shipped["ref_type"] == "shipment"
    assert shipped["title"] == f"Order {order.number} shipped via DHL, tracking JJD0099"
    assert entries[3]["title"] == f"Order {order.number} placed: 256.80 EUR"
    assert entries[3]["occurred_at"] == ordered["last_order_at"]

    after = await live.customer(customer["id"])
    assert (after["version"], after["etag"]) == (customer["version"], f'"{customer["version"]}"')
    updates = await live.crm.events("crm.customer.updated.v1")
    assert [e for e in updates if e["subject"] == customer["id"]] == []


async def test_invoices_and_payments_keep_the_customers_balance(live: LiveCrm) -> None:
    _rep, customer, quote = await live.accepted_quote()
    order = order_for(customer, quote)
    await live.erp.publish(order.created())
    first, second = ErpInvoice(order), ErpInvoice(order)

    await live.erp.publish(first.issued())
    issued = await until(
        lambda: live.customer(customer["id"]),
        lambda c: c["open_balance"] == "256.80",
        "the invoice is due",
    )
    assert issued["lifetime_value"] == "256.80"

    await live.erp.publish(first.payment("100.00"))
    await live.erp.publish(second.issued())
    await live.erp.publish(second.voided("Issued twice"))
    await until(
        lambda: live.customer(customer["id"]),
        lambda c: (c["open_balance"], c["lifetime_value"]) == ("156.80", "256.80"),
        "part paid, the second invoice void",
    )

    # ERP records the settling payment and the invoice being paid in one transaction,
    # under one version: both are facts the timeline shows.
    await live.erp.publish(first.payment("156.80"))
    await live.erp.publish(first.paid())
    await until(
        lambda: live.timeline(customer["id"], "invoice.paid"), bool, "the paid event applied"
    )
    settled = await live.customer(customer["id"])
    assert settled["open_balance"] == "0.00"
    assert settled["lifetime_value"] == "256.80"
    assert settled["version"] == customer["version"], "ERP facts leave the customer's version"

    invoices = [(e["kind"], e["title"]) for e in await live.timeline(customer["id"], "invoice")]
    assert invoices == [
        ("invoice.paid", f"Invoice {first.number} paid in full: 256.80 EUR"),
        ("invoice.voided", f"Invoice {second.number} voided: Issued twice"),
        ("invoice.issued", f"Invoice {second.number} issued: 256.80 EUR, due 2026-12-20"),
        ("invoice.issued", f"Invoice {first.number} issued: 256.80 EUR, due 2026-12-20"),
    ]
    payments = [e["title"] for e in await live.timeline(customer["id"], "payment")]
    assert payments == [
        f"Payment of 156.80 EUR received for {first.number}; invoice paid in full",
        f"Payment of 100.00 EUR received for {first.number}; 156.80 EUR still due",
    ]


async def test_a_redelivered_event_has_one_effect(live: LiveCrm) -> None:
    rep = (await live.hire()).employee_id
    customer = await live.customer_of(rep)
    order = order_for(customer)
    invoice = ErpInvoice(order)
    created = await live.erp.publish(order.created())
    await live.erp.deliver(created)
    # The same version again under another event id (ERP published it twice): superseded.
    await live.erp.publish(created.data)
    issued = await live.erp.publish(invoice.issued())
    paid_part = await live.erp.publish(invoice.payment("19.00"))
    for event in (issued, paid_part, issued):
        await live.erp.deliver(event)
    # Later events of the same keys come after the duplicates on their partitions.
    await live.erp.publish(order.confirmed())
    await live.erp.publish(invoice.payment("50.00"))

    await until(
        lambda: live.customer(customer["id"]),
        lambda c: c["open_balance"] == "50.00",
        "both payments applied",
    )
    assert (await live.customer(customer["id"]))["lifetime_value"] == "119.00"
    await until(lambda: live.timeline(customer["id"], "order.confirmed"), bool, "order confirmed")
    entries = kinds(await live.timeline(customer["id"]))
    assert sorted(entries) == [
        "invoice.issued",
        "order.confirmed",
        "order.created",
        "payment.received",
        "payment.received",
    ]


async def test_events_delivered_newest_first_end_in_the_final_state(live: LiveCrm) -> None:
    _rep, customer, quote = await live.accepted_quote()
    order = order_for(customer, quote)
    created, confirmed, shipped = order.created(), order.confirmed(), order.shipped()
    invoice = ErpInvoice(order)
    issued, payment = invoice.issued(), invoice.payment("256.80")
    for data in (shipped, confirmed, created, payment, issued):
        await live.erp.publish(data)

    ordered = await until(
        lambda: live.customer(customer["id"]),
        lambda c: c["last_order_id"] == str(order.order_id) and c["lifetime_value"] == "256.80",
        "the late creation and the invoice applied",
    )
    assert ordered["open_balance"] == "0.00"
    await until(
        lambda: live.timeline(customer["id"], "invoice.issued"), bool, "the late issue applied"
    )
    on_quote = await live.quote(quote["id"])
    assert (on_quote["order_status"], on_quote["order_version"]) == ("shipped", 3)
    entries = kinds(await live.timeline(customer["id"]))
    assert sorted(entries) == [
        "invoice.issued",
        "order.created",
        "order.shipped",
        "payment.received",
    ]


async def test_events_of_customers_crm_does_not_know_are_kept_without_failing(
    live: LiveCrm,
) -> None:
    stranger = {"id": str(uuid.uuid4())}
    order = order_for(stranger)
    order.quote_id = uuid.uuid4()  # a quote CRM never had
    invoice = ErpInvoice(order)
    for data in (order.created(), order.confirmed(), invoice.issued()):
        await live.erp.publish(data)

    async def replicas() -> tuple[str | None, str | None]:
        async with live.crm.engine.connect() as connection:
            order_status = await connection.scalar(
                select(OrderReplica.status).where(OrderReplica.id == order.order_id)
            )
            invoice_status = await connection.scalar(
                select(InvoiceReplica.status).where(InvoiceReplica.id == invoice.invoice_id)
            )
        return order_status, invoice_status

    await until(replicas, lambda s: s == ("confirmed", "issued"), "the replicas written")
    unknown = await live.client.get(f"/customers/{stranger['id']}", headers=live.as_("admin"))
    assert unknown.status_code == 404
