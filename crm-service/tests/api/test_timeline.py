"""A customer's timeline through the HTTP API, on SQLite and PostgreSQL: activities merged
with what ERP reported (applied through the CRM's own consumer), newest first, in pages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from crm.adapters.replicas import OrderReplica
from shared_schemas.messaging import Outcome
from tests.support.crm import Crm, ErpInvoice, ErpOrder

pytestmark = pytest.mark.api

NOW = datetime.now(UTC).replace(microsecond=0)


def hours_ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


async def new_customer(crm: Crm, owner: uuid.UUID, name: str) -> str:
    response = await crm.client.post(
        "/customers", json={"kind": "company", "name": name}, headers=crm.headers("sales", owner)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def order_placed(crm: Crm, customer_id: str, at: datetime, number: str = "SO-1") -> ErpOrder:
    """ERP reports an order of the customer, placed at `at` (through the CRM's consumer)."""
    order = ErpOrder(uuid.UUID(customer_id), number=number)
    await crm.publish_at(order.created(), at)
    return order


async def invoice_issued(crm: Crm, order: ErpOrder, at: datetime, number: str = "INV-1") -> str:
    """ERP reports the invoice of the whole order, issued at `at`."""
    invoice = ErpInvoice(order, number=number)
    await crm.publish_at(invoice.issued(), at)
    return str(invoice.invoice_id)


@pytest.fixture
async def customer_id(crm: Crm, sales_rep: uuid.UUID) -> str:
    return await new_customer(crm, sales_rep, "Acme GmbH")


async def log(crm: Crm, owner: uuid.UUID, kind: str, when: datetime, **about: str) -> str:
    response = await crm.client.post(
        "/activities",
        json={
            "kind": kind,
            "subject": f"A {kind}",
            "body": "Notes.",
            "occurred_at": when.isoformat(),
            **about,
        },
        headers=crm.headers("sales", owner),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def timeline(crm: Crm, customer_id: str, role: str = "admin", **params: Any) -> Any:
    return await crm.client.get(
        f"/customers/{customer_id}/timeline", params=params, headers=crm.headers(role)
    )


async def items(crm: Crm, customer_id: str, role: str = "admin", **params: Any) -> list[dict]:
    response = await timeline(crm, customer_id, role, **params)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return list(response.json()["items"])


async def test_an_unknown_customer_has_no_timeline(crm: Crm) -> None:
    response = await timeline(crm, str(uuid.uuid4()))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_activities_and_erp_facts_merge_newest_first(
    crm: Crm, sales_rep: uuid.UUID, customer_id: str
) -> None:
    other = await new_customer(crm, sales_rep, "Globex")
    opportunity = await crm.client.post(
        "/opportunities",
        json={"name": "40 pallets", "customer_id": customer_id, "amount": "12000.00"},
        headers=crm.headers("sales", sales_rep),
    )
    assert opportunity.status_code == 201, opportunity.text
    converted_lead = await crm.client.post(
        "/leads", json={"name": "Jana Novak"}, headers=crm.headers("sales", sales_rep)
    )
    open_lead = await crm.client.post(
        "/leads", json={"name": "Joe Open"}, headers=crm.headers("sales", sales_rep)
    )
    call = await log(crm, sales_rep, "call", hours_ago(10), customer_id=customer_id)
    order = await order_placed(crm, customer_id, hours_ago(8), number="SO-7")
    meeting = await log(
        crm, sales_rep, "meeting", hours_ago(6), opportunity_id=opportunity.json()["id"]
    )
    invoice_id = await invoice_issued(crm, order, hours_ago(4), number="INV-9")
    note = await log(crm, sales_rep, "note", hours_ago(2), lead_id=converted_lead.json()["id"])
    converted = await crm.client.post(
        f"/leads/{converted_lead.json()['id']}/convert",
        json={"customer_id": customer_id},
        headers=crm.headers("sales", sales_rep),
    )
    assert converted.status_code == 200, converted.text
    # Not this customer's: another customer's activity and order, an unconverted lead's note.
    await log(crm, sales_rep, "visit", hours_ago(3), customer_id=other)
    await order_placed(crm, other, hours_ago(1), number="SO-8")
    await log(crm, sales_rep, "note", hours_ago(1), lead_id=open_lead.json()["id"])

    shown = await items(crm, customer_id)
    assert [(item["kind"], item["ref_id"]) for item in shown] == [
        ("activity.note", note),
        ("invoice.issued", invoice_id),
        ("activity.meeting", meeting),
        ("order.created", str(order.order_id)),
        ("activity.call", call),
    ]
    assert [datetime.fromisoformat(item["occurred_at"]) for item in shown] == [
        hours_ago(2),
        hours_ago(4),
        hours_ago(6),
        hours_ago(8),
        hours_ago(10),
    ]
    note_item, invoice_item, _, order_item, call_item = shown
    assert call_item["id"] == call
    assert call_item["title"] == "A call"
    assert call_item["summary"] == "Notes."
    assert call_item["ref_type"] == "activity"
    assert call_item["details"]["customer_id"] == customer_id
    assert call_item["details"]["owner_id"] == str(sales_rep)
    assert note_item["details"]["lead_id"] == converted_lead.json()["id"]
    assert order_item["ref_type"] == "order"
    assert order_item["title"].startswith("Order SO-7")
    assert order_item["details"]["number"] == "SO-7"
    assert invoice_item["ref_type"] == "invoice"
    assert invoice_item["title"].startswith("Invoice INV-9")


async def test_an_overdue_notice_reaches_the_timeline_unless_the_invoice_moved_on(
    crm: Crm, customer_id: str
) -> None:
    order = await order_placed(crm, customer_id, hours_ago(9))
    invoice = ErpInvoice(order, number="INV-5")
    await crm.publish_at(invoice.issued(), hours_ago(8))
    # ERP's sweep names the invoice at the version CRM holds: the invoice did not change.
    await crm.publish_at(invoice.overdue(days=3), hours_ago(6))
    # A notice about an older state (paid since) arrives late: it is not news any more.
    stale_notice = invoice.overdue(days=4)
    await crm.publish_at(invoice.payment(str(invoice.total)), hours_ago(4))
    await crm.publish_at(stale_notice, hours_ago(5))

    shown = await items(crm, customer_id)
    assert [item["kind"] for item in shown] == [
        "payment.received",
        "invoice.overdue",
        "invoice.issued",
        "order.created",
    ]
    assert shown[1]["title"].startswith("Invoice INV-5 overdue by 3 days")
    customer = await crm.client.get(f"/customers/{customer_id}", headers=crm.headers("finance"))
    assert customer.json()["open_balance"] == "0.00"


async def test_a_shipment_replayed_after_the_delivery_shows_without_turning_the_order_back(
    crm: Crm, customer_id: str
) -> None:
    order = await order_placed(crm, customer_id, hours_ago(9), number="SO-3")
    confirmed = order.confirmed()
    await crm.publish_at(confirmed, hours_ago(8))
    # The first parcel's event failed and went to the dead letters; it is replayed last.
    first = order.shipped("UPS", "1Z999", partial=True)
    await crm.publish_at(order.shipped("DHL", "JJD42"), hours_ago(6))
    await crm.publish_at(order.delivered(), hours_ago(5))
    assert await crm.publish_at(first, hours_ago(7)) is Outcome.APPLIED
    # Replayed again under another event id: the shipment shows once.
    assert await crm.publish_at(first, hours_ago(7)) is Outcome.SUPERSEDED
    # A state the order has left is not news any more.
    assert await crm.publish_at(confirmed, hours_ago(8)) is Outcome.SUPERSEDED

    shown = await items(crm, customer_id)
    assert [(item["kind"], item["title"]) for item in shown] == [
        ("order.delivered", "Order SO-3 delivered"),
        ("order.shipped", "Order SO-3 shipped via DHL, tracking JJD42"),
        ("order.shipped", "Order SO-3 partially shipped via UPS, tracking 1Z999"),
        ("order.confirmed", "Order SO-3 confirmed, stock reserved"),
        ("order.created", "Order SO-3 placed: 119.00 EUR"),
    ]
    assert shown[2]["ref_id"] == str(first.shipment_id)
    async with crm.engine.connect() as connection:
        status = await connection.scalar(
            select(OrderReplica.status).where(OrderReplica.id == order.order_id)
        )
    assert status == "delivered"


async def test_kinds_filter_exactly_or_by_family(
    crm: Crm, sales_rep: uuid.UUID, customer_id: str
) -> None:
    call = await log(crm, sales_rep, "call", hours_ago(5), customer_id=customer_id)
    visit = await log(crm, sales_rep, "visit", hours_ago(4), customer_id=customer_id)
    order = await order_placed(crm, customer_id, hours_ago(3))
    invoice_id = await invoice_issued(crm, order, hours_ago(2))

    async def refs(*kinds: str) -> list[str]:
        return [item["ref_id"] for item in await items(crm, customer_id, kind=list(kinds))]

    assert await refs("activity") == [visit, call]
    assert await refs("activity.call") == [call]
    assert await refs("order") == [str(order.order_id)]
    assert await refs("invoice.issued", "activity.visit") == [invoice_id, visit]
    assert await refs("shipment", "activity.email") == []
    for bad in ("Order", "order.%", "activity..call"):
        assert (await timeline(crm, customer_id, kind=bad)).status_code == 422, bad


async def test_pages_neither_repeat_nor_skip_while_new_items_arrive(
    crm: Crm, sales_rep: uuid.UUID, customer_id: str
) -> None:
    tied = hours_ago(5)
    for hours in (9, 7):
        await log(crm, sales_rep, "call", hours_ago(hours), customer_id=customer_id)
    for number, hours in (("SO-1", 8.5), ("SO-2", 6)):
        await order_placed(crm, customer_id, hours_ago(hours), number=number)
    # An activity and an ERP fact at the very same moment: the id breaks the tie.
    await log(crm, sales_rep, "email", tied, customer_id=customer_id)
    await order_placed(crm, customer_id, tied, number="SO-3")
    await log(crm, sales_rep, "note", tied, customer_id=customer_id)
    await log(crm, sales_rep, "meeting", hours_ago(1), customer_id=customer_id)

    everything = await items(crm, customer_id)
    assert len(everything) == 8
    keys = [
        (datetime.fromisoformat(item["occurred_at"]), uuid.UUID(item["id"])) for item in everything
    ]
    assert keys == sorted(keys, reverse=True)
    before = [item["id"] for item in everything]

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await timeline(crm, customer_id, **params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        pages += 1
        if cursor is None:
            break
        # Newer facts and activities arrive between pages; they belong before the cursor.
        await log(crm, sales_rep, "call", datetime.now(UTC), customer_id=customer_id)
        await order_placed(crm, customer_id, datetime.now(UTC), number=f"SO-new-{pages}")
    assert seen == before
    assert pages == 3
    assert len(await items(crm, customer_id)) == 8 + 2 * (pages - 1)


async def test_roles_that_may_not_read_activities_see_only_erp_facts(
    crm: Crm, sales_rep: uuid.UUID, customer_id: str
) -> None:
    call = await log(crm, sales_rep, "call", hours_ago(2), customer_id=customer_id)
    order = await order_placed(crm, customer_id, hours_ago(1))
    for role in ("admin", "sales", "sales_manager", "support"):
        refs = [item["ref_id"] for item in await items(crm, customer_id, role)]
        assert refs == [str(order.order_id), call], role
    finance = [item["ref_id"] for item in await items(crm, customer_id, "finance")]
    assert finance == [str(order.order_id)]
    assert (await timeline(crm, customer_id, "finance", kind="activity")).json()["items"] == []
    for role in ("warehouse", "hr"):
        assert (await timeline(crm, customer_id, role)).status_code == 403, role


async def test_a_cursor_it_did_not_issue_and_too_large_pages_are_422(
    crm: Crm, sales_rep: uuid.UUID, customer_id: str
) -> None:
    for hours in (3, 2, 1):
        await log(crm, sales_rep, "call", hours_ago(hours), customer_id=customer_id)
    listing = await crm.client.get(
        "/activities", params={"limit": 1}, headers=crm.headers("support")
    )
    foreign_cursor = listing.json()["next_cursor"]
    assert foreign_cursor
    for params in ({"cursor": "not-a-cursor"}, {"cursor": foreign_cursor}, {"limit": 201}):
        response = await timeline(crm, customer_id, **params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
