"""ERP's invoice and payment events applied through the CRM's consumer path, on SQLite and
PostgreSQL: the invoice replica takes the newest version's state, while each event is a
fact the customer's timeline shows once, also when ERP recorded two facts under one
version (a payment settling the invoice and the invoice being paid) or a fact arrives
after a newer one."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from crm.adapters.replicas import InvoiceReplica
from shared_schemas.events.base import CloudEvent, new_event
from shared_schemas.messaging import Outcome
from tests.support.crm import Crm, ErpInvoice, ErpOrder

pytestmark = pytest.mark.api


async def new_customer(crm: Crm, owner: uuid.UUID) -> uuid.UUID:
    response = await crm.client.post(
        "/customers", json={"kind": "company", "name": "Acme"}, headers=crm.headers("sales", owner)
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def customer(crm: Crm, customer_id: uuid.UUID) -> dict[str, Any]:
    response = await crm.client.get(f"/customers/{customer_id}", headers=crm.headers("finance"))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def timeline(crm: Crm, customer_id: uuid.UUID) -> list[tuple[str, str]]:
    """(kind, ref_id) of the customer's invoice and payment facts."""
    response = await crm.client.get(
        f"/customers/{customer_id}/timeline",
        params={"kind": ["invoice", "payment"]},
        headers=crm.headers("finance"),
    )
    assert response.status_code == 200, response.text
    return [(item["kind"], item["ref_id"]) for item in response.json()["items"]]


async def deliver(crm: Crm, event: CloudEvent[Any]) -> Outcome:
    """One CloudEvent applied as the consumer applies what it takes from the broker."""
    parsed = crm.applier.parse(event.model_dump_json().encode())
    assert parsed is not None
    return await crm.applier.apply(*parsed)


async def replica(crm: Crm, invoice_id: uuid.UUID) -> tuple[str, int, Decimal]:
    async with crm.engine.connect() as connection:
        row = (
            await connection.execute(
                select(
                    InvoiceReplica.status, InvoiceReplica.version, InvoiceReplica.amount_due
                ).where(InvoiceReplica.id == invoice_id)
            )
        ).one()
    return row.status, row.version, row.amount_due


async def test_the_payment_that_settles_an_invoice_and_the_paid_event_both_show(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    customer_id = await new_customer(crm, sales_rep)
    invoice = ErpInvoice(ErpOrder(customer_id))
    assert await crm.publish(invoice.issued()) is Outcome.APPLIED
    settling = invoice.payment(str(invoice.total))
    paid = new_event(invoice.paid(), source="erp-service", actor="erp-service")
    assert paid.data.version == settling.version, "ERP records both under one header"
    assert await crm.publish(settling) is Outcome.APPLIED
    assert await deliver(crm, paid) is Outcome.APPLIED

    invoice_ref, payment_ref = str(invoice.invoice_id), str(settling.payment_id)
    assert sorted(await timeline(crm, customer_id)) == [
        ("invoice.issued", invoice_ref),
        ("invoice.paid", invoice_ref),
        ("payment.received", payment_ref),
    ]
    assert await replica(crm, invoice.invoice_id) == ("paid", 2, Decimal("0.00"))
    assert (await customer(crm, customer_id))["open_balance"] == "0.00"

    # Delivered again under its id: the inbox drops it, the timeline keeps one entry.
    assert await deliver(crm, paid) is Outcome.DUPLICATE
    assert len(await timeline(crm, customer_id)) == 3


async def test_a_fact_older_than_the_replica_shows_without_turning_the_state_back(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    customer_id = await new_customer(crm, sales_rep)
    invoice = ErpInvoice(ErpOrder(customer_id))
    issued = invoice.issued()
    first = invoice.payment("19.00")
    rest = invoice.payment(str(invoice.total - Decimal("19.00")))
    paid = invoice.paid()
    # The first payment failed and went to the dead letters; it is replayed last.
    for data in (issued, rest, paid):
        assert await crm.publish(data) is Outcome.APPLIED
    assert await crm.publish(first) is Outcome.APPLIED

    assert await replica(crm, invoice.invoice_id) == ("paid", 3, Decimal("0.00"))
    after = await customer(crm, customer_id)
    assert (after["open_balance"], after["lifetime_value"]) == ("0.00", f"{invoice.total:.2f}")
    shown = await timeline(crm, customer_id)
    assert sorted(ref for kind, ref in shown if kind == "payment.received") == sorted(
        [str(first.payment_id), str(rest.payment_id)]
    )
    assert [kind for kind, _ in shown].count("invoice.paid") == 1


async def test_a_stale_overdue_notice_is_still_dropped(crm: Crm, sales_rep: uuid.UUID) -> None:
    customer_id = await new_customer(crm, sales_rep)
    invoice = ErpInvoice(ErpOrder(customer_id))
    assert await crm.publish(invoice.issued()) is Outcome.APPLIED
    stale_notice = invoice.overdue(days=2)
    assert await crm.publish(invoice.payment(str(invoice.total))) is Outcome.APPLIED
    assert await crm.publish(invoice.paid()) is Outcome.APPLIED
    assert await crm.publish(stale_notice) is Outcome.SUPERSEDED
    assert "invoice.overdue" not in [kind for kind, _ in await timeline(crm, customer_id)]
