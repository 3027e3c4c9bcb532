"""Invoices: one per shipment however often its event arrives, lines that add up exactly
to the order over several shipments, the posting and its reversal on void, payments up to
what is due (once per Idempotency-Key), the overdue announcement once per invoice, and
unpaid invoices in the customer's credit exposure."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from erp.adapters.sales import Order
from erp.config import Settings
from erp.service import credit
from erp.service.invoices import _payment_terms, issue_for_shipment
from erp.service.overdue import announce_overdue
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.database import session_factory
from shared_schemas.events.base import new_event
from shared_schemas.events.erp.orders import OrderShipped
from shared_schemas.messaging import Outcome
from tests.support.erp import Erp, quote_accepted, ship

pytestmark = pytest.mark.api


async def entries_of(erp: Erp, **filters: Any) -> list[dict[str, Any]]:
    response = await erp.client.get(
        "/ledger/journal-entries",
        params={"limit": 200, "sort": "created_at", **filters},
        headers=erp.headers("finance"),
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def balance(erp: Erp, key: str) -> Decimal:
    chart = await erp.client.get(
        "/ledger/accounts", params={"limit": 200}, headers=erp.headers("finance")
    )
    [account] = [a for a in chart.json()["items"] if a["system_key"] == key]
    total = Decimal(0)
    for entry in await entries_of(erp, account_id=account["id"]):
        for line in entry["lines"]:
            if line["account_id"] == account["id"]:
                total += Decimal(line["debit"]) - Decimal(line["credit"])
    return total


async def shipped_order(erp: Erp, **customer: Any) -> tuple[uuid.UUID, dict[str, Any]]:
    """A confirmed order of 3 chairs (19.99, 10 % off, 19 % tax) and a table (300.00, 7 %
    tax), all in stock."""
    customer_id = await erp.customer(**customer)
    order = await erp.order(
        customer_id,
        [
            {
                "sku": "CHAIR",
                "quantity": 3,
                "unit_price": "19.99",
                "discount_pct": "10",
                "tax_rate": "19",
            },
            {"sku": "TABLE", "quantity": 1, "unit_price": "300.00", "tax_rate": "7"},
        ],
    )
    assert order["status"] == "confirmed"
    return customer_id, order


async def stocked(erp: Erp) -> None:
    await erp.warehouse("MAIN")
    await erp.product("CHAIR", "19.99", cost="8.00")
    await erp.product("TABLE", "300.00", cost="120.00", tax_rate="7")
    await erp.receive("CHAIR", 50)
    await erp.receive("TABLE", 10)


async def pay(
    erp: Erp,
    invoice: dict[str, Any],
    amount: str,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> Any:
    return await erp.client.post(
        "/payments",
        json={"invoice_id": invoice["id"], "amount": amount, "method": "bank_transfer", **fields},
        headers={**erp.headers("finance"), **(headers or {})},
    )


async def test_each_shipment_is_invoiced_once_and_the_invoices_add_up_to_the_order(
    erp: Erp,
) -> None:
    await stocked(erp)
    _, order = await shipped_order(erp)
    assert (await ship(erp, order, [("CHAIR", 1)])).status_code == 201
    [first] = await erp.invoice_shipments()
    assert (await ship(erp, order, [("CHAIR", 2), ("TABLE", 1)])).status_code == 201
    invoices = await erp.invoice_shipments()
    assert [i["number"] for i in invoices] == [
        f"INV-{datetime.now(UTC).year}-000001",
        f"INV-{datetime.now(UTC).year}-000002",
    ]
    assert invoices[0] == first
    # 1 chair rounds on its own; the last 2 take what remains of the line (35.98 / 6.83,
    # not the 35.98 / 6.84 rounding them alone would give).
    assert [(x["sku"], x["quantity"], x["line_net"], x["line_tax"]) for x in first["lines"]] == [
        ("CHAIR", 1, "17.99", "3.42")
    ]
    second = invoices[1]
    assert [(x["sku"], x["quantity"], x["line_net"], x["line_tax"]) for x in second["lines"]] == [
        ("CHAIR", 2, "35.98", "6.83"),
        ("TABLE", 1, "300.00", "21.00"),
    ]
    for field in ("subtotal", "discount_total", "tax_total", "total"):
        assert sum(Decimal(i[field]) for i in invoices) == Decimal(order[field]), field
    assert (first["total"], first["amount_due"], first["status"]) == ("21.41", "21.41", "issued")
    assert first["order_id"] == order["id"]
    assert first["due_date"] > first["issued_on"]

    # Delivered again, or re-sent under a new event id: still two invoices.
    assert len(await erp.invoice_shipments()) == 2
    [shipped_event, _] = await erp.events("erp.order.shipped.v1")
    resent = new_event(
        OrderShipped.model_validate(shipped_event["data"]),
        source="erp-service",
        actor="erp-service",
    )
    assert await erp.deliver(resent) is Outcome.SUPERSEDED
    assert len(await erp.invoice_shipments()) == 2
    issued = await erp.events("erp.invoice.issued.v1")
    assert [e["data"]["number"] for e in issued] == [i["number"] for i in invoices]
    assert issued[0]["data"]["amount_due"] == "21.41"

    # Dr receivables / Cr revenue (net) / Cr tax payable (tax), per invoice.
    [entry] = await entries_of(erp, source_type="invoice", source_id=first["id"])
    assert sorted((x["debit"], x["credit"]) for x in entry["lines"]) == [
        ("0.00", "17.99"),
        ("0.00", "3.42"),
        ("21.41", "0.00"),
    ]
    assert await balance(erp, "receivables") == Decimal(order["total"])
    assert await balance(erp, "revenue") == -(Decimal(order["total"]) - Decimal(order["tax_total"]))
    listed = await erp.client.get(
        "/invoices",
        params={"order_id": order["id"], "status": "issued"},
        headers=erp.headers("sales"),
    )
    assert [i["id"] for i in listed.json()["items"]] == [first["id"], second["id"]][::-1]
    by_number = await erp.client.get(
        "/invoices", params={"q": second["number"].lower()}, headers=erp.headers("finance")
    )
    assert [i["id"] for i in by_number.json()["items"]] == [second["id"]]
    wildcard = await erp.client.get(
        "/invoices", params={"q": "INV_%"}, headers=erp.headers("finance")
    )
    assert wildcard.json()["items"] == []


async def test_parts_rounded_down_one_by_one_still_leave_the_last_invoice_no_surcharge(
    erp: Erp,
) -> None:
    # 7 units at 1.60, 1 % off: each unit alone is 1.58 net, the line 11.09, so the last
    # of seven single-unit invoices would bill 1.61 for 1.60 of goods if nothing held it.
    await erp.warehouse("MAIN")
    await erp.product("BOLT", "1.60", tax_rate="0")
    await erp.receive("BOLT", 7)
    customer = uuid.uuid4()
    quote = quote_accepted(customer, [("BOLT", 7, "1.60", "1", "0")])
    assert await erp.publish(quote) is Outcome.APPLIED
    [order] = await erp.orders_of_quote(quote.quote_id)
    for _ in range(7):
        assert (await ship(erp, order, [("BOLT", 1)])).status_code == 201
    invoices = await erp.invoice_shipments()
    assert len(invoices) == 7
    assert [i["total"] for i in invoices] == ["1.58"] * 5 + ["1.59", "1.60"]
    assert {i["discount_total"] for i in invoices} == {"0.02", "0.01", "0.00"}
    assert sum(Decimal(i["total"]) for i in invoices) == Decimal(order["total"]) == Decimal("11.09")


async def test_after_a_void_the_order_s_last_invoice_completes_it_to_the_cent(erp: Erp) -> None:
    # 3 units at 0.33, 19 % tax: 0.99 + 0.19. Each unit alone is 0.33 + 0.06, so without the
    # last part taking the remainder the order would stay a cent short of billed for good.
    await erp.warehouse("MAIN")
    await erp.product("PIN", "0.33")
    await erp.receive("PIN", 3)
    customer = uuid.uuid4()
    quote = quote_accepted(customer, [("PIN", 3, "0.33")])
    assert await erp.publish(quote) is Outcome.APPLIED
    [order] = await erp.orders_of_quote(quote.quote_id)
    assert order["total"] == "1.18"
    for _ in range(2):
        assert (await ship(erp, order, [("PIN", 1)])).status_code == 201
    _, second = await erp.invoice_shipments()
    await erp.post(f"/invoices/{second['id']}/void", {"reason": "issued in error"}, "finance")
    assert (await ship(erp, order, [("PIN", 1)])).status_code == 201
    first, voided, last = await erp.invoice_shipments()
    assert (first["total"], voided["status"], last["total"]) == ("0.39", "void", "0.40")
    for invoice in (first, last):
        assert (await pay(erp, invoice, invoice["amount_due"])).status_code == 201
    # Paid in full and nothing left to invoice: the customer owes nothing at all.
    async with session_factory(erp.engine)() as session:
        assert await credit.exposures(session, [customer]) == {}


async def test_voiding_reverses_the_invoice_but_never_the_cost_of_goods(erp: Erp) -> None:
    await stocked(erp)
    _, order = await shipped_order(erp)
    await ship(erp, order, [("CHAIR", 3), ("TABLE", 1)])
    [invoice] = await erp.invoice_shipments()
    cogs = await balance(erp, "cogs")
    assert cogs == Decimal("144.00")

    for role in ("sales", "warehouse"):
        response = await erp.client.post(
            f"/invoices/{invoice['id']}/void", headers=erp.headers(role)
        )
        assert response.status_code == 403, role
    stale = await erp.client.post(
        f"/invoices/{invoice['id']}/void", headers={**erp.headers("finance"), "If-Match": '"7"'}
    )
    assert stale.status_code == 412
    voided = await erp.post(
        f"/invoices/{invoice['id']}/void", {"reason": "wrong entity"}, "finance"
    )
    assert (voided["status"], voided["amount_due"], voided["void_reason"]) == (
        "void",
        "0.00",
        "wrong entity",
    )
    [reversal] = await entries_of(erp, source_type="invoice_void", source_id=invoice["id"])
    [original] = await entries_of(erp, source_type="invoice", source_id=invoice["id"])
    assert reversal["reverses_id"] == original["id"]
    assert await balance(erp, "receivables") == Decimal("0.00")
    assert await balance(erp, "revenue") == Decimal("0.00")
    assert await balance(erp, "tax_payable") == Decimal("0.00")
    assert await balance(erp, "cogs") == cogs
    [event] = await erp.events("erp.invoice.voided.v1")
    assert (event["data"]["status"], event["data"]["amount_due"]) == ("void", "0.00")

    events = await erp.events()
    again = await erp.client.post(f"/invoices/{invoice['id']}/void", headers=erp.headers("finance"))
    assert again.status_code == 409
    assert again.json()["allowed"] == []
    paying_void = await pay(erp, invoice, "1.00")
    assert paying_void.status_code == 409
    # Neither refusal changed the invoice, the books or the outbox.
    now = await erp.client.get(f"/invoices/{invoice['id']}", headers=erp.headers("finance"))
    assert now.json() == voided
    assert await erp.events() == events
    assert await balance(erp, "receivables") == Decimal("0.00")
    assert await balance(erp, "cash") == Decimal("0.00")
    assert len(await entries_of(erp, source_type="invoice_void", source_id=invoice["id"])) == 1


async def test_payments_settle_an_invoice_and_never_exceed_what_is_due(erp: Erp) -> None:
    await stocked(erp)
    _, order = await shipped_order(erp)
    await ship(erp, order, [("CHAIR", 3), ("TABLE", 1)])
    [invoice] = await erp.invoice_shipments()
    total = Decimal(invoice["total"])
    assert total == Decimal("385.22")

    over = await pay(erp, invoice, "385.23")
    assert over.status_code == 422
    assert over.json()["errors"][0]["field"] == "amount"
    future = await pay(
        erp, invoice, "1.00", received_on=(datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    )
    assert future.status_code == 422
    assert (await pay(erp, invoice, "1.00", method="crypto")).status_code == 422
    assert (
        await erp.client.post(
            "/payments",
            json={"invoice_id": invoice["id"], "amount": "1.00", "method": "cash"},
            headers=erp.headers("sales"),
        )
    ).status_code == 403
    assert await erp.events("erp.payment.received.v1") == []

    key = {"Idempotency-Key": "psp-callback-7781"}
    first = await pay(erp, invoice, "100.00", method="cash", reference="till-1", headers=key)
    assert first.status_code == 201, first.text
    retried = await pay(erp, invoice, "100.00", method="cash", reference="till-1", headers=key)
    assert retried.status_code == 201
    assert retried.json() == first.json()
    other_body = await pay(erp, invoice, "99.00", method="cash", headers=key)
    assert other_body.status_code == 422
    assert first.json()["invoice"]["status"] == "partially_paid"
    assert first.json()["invoice"]["amount_due"] == "285.22"

    rest = await pay(erp, invoice, "285.22", reference="SEPA-1")
    assert rest.status_code == 201
    assert (rest.json()["invoice"]["status"], rest.json()["invoice"]["amount_due"]) == (
        "paid",
        "0.00",
    )
    paid_twice = await pay(erp, invoice, "0.01")
    assert paid_twice.status_code == 409, paid_twice.text

    listed = await erp.client.get(
        "/payments", params={"invoice_id": invoice["id"]}, headers=erp.headers("finance")
    )
    assert sorted(p["amount"] for p in listed.json()["items"]) == ["100.00", "285.22"]
    received = await erp.events("erp.payment.received.v1")
    assert [
        (e["data"]["amount"], e["data"]["status"], e["data"]["amount_due"]) for e in received
    ] == [
        ("100.00", "partially_paid", "285.22"),
        ("285.22", "paid", "0.00"),
    ]
    [paid] = await erp.events("erp.invoice.paid.v1")
    assert paid["data"]["payment_id"] == rest.json()["id"]
    assert await balance(erp, "cash") == Decimal("100.00")
    assert await balance(erp, "bank") == Decimal("285.22")
    assert await balance(erp, "receivables") == Decimal("0.00")
    events = await erp.events()
    voiding_paid = await erp.client.post(
        f"/invoices/{invoice['id']}/void", headers=erp.headers("finance")
    )
    assert voiding_paid.status_code == 409
    now = await erp.client.get(f"/invoices/{invoice['id']}", headers=erp.headers("finance"))
    assert (now.json()["status"], now.json()["amount_due"]) == ("paid", "0.00")
    assert await erp.events() == events
    assert await entries_of(erp, source_type="invoice_void", source_id=invoice["id"]) == []


async def test_an_overdue_invoice_is_announced_once(erp: Erp, erp_settings: Settings) -> None:
    await stocked(erp)
    _, order = await shipped_order(erp, payment_terms_days=0)
    await ship(erp, order, [("CHAIR", 1)])
    [invoice] = await erp.invoice_shipments()
    assert invoice["due_date"] == invoice["issued_on"]
    sessions = session_factory(erp.engine)
    due = datetime.fromisoformat(invoice["due_date"]).date()
    assert await announce_overdue(sessions, erp_settings, today=due) == 0
    assert await announce_overdue(sessions, erp_settings, today=due + timedelta(days=3)) == 1
    assert await announce_overdue(sessions, erp_settings, today=due + timedelta(days=4)) == 0
    [event] = await erp.events("erp.invoice.overdue.v1")
    assert (event["data"]["days_overdue"], event["data"]["amount_due"]) == (3, invoice["total"])
    assert event["subject"] == invoice["id"]
    not_overdue = await erp.client.get(
        "/invoices", params={"overdue": "false"}, headers=erp.headers("finance")
    )
    assert [i["id"] for i in not_overdue.json()["items"]] == [invoice["id"]]


async def test_unpaid_invoices_count_against_the_credit_limit_until_paid(erp: Erp) -> None:
    await stocked(erp)
    customer_id = await erp.customer(credit_limit="500.00")
    first = await erp.order(customer_id, [("TABLE", 1)])  # 321.00
    assert first["status"] == "confirmed"
    await ship(erp, first, [("TABLE", 1)])
    [invoice] = await erp.invoice_shipments()
    # Invoiced, the 321.00 is owed on the invoice instead of the order: still counted.
    held = await erp.order(customer_id, [("TABLE", 1)])
    assert held["status"] == "on_hold"
    [on_hold] = await erp.events("erp.order.on_hold.v1")
    assert on_hold["data"]["credit_exposure"] == "642.00"
    assert (await pay(erp, invoice, "321.00")).status_code == 201
    assert (await erp.order(customer_id, [("TABLE", 1)]))["status"] == "confirmed"


async def test_a_voided_invoice_no_longer_counts_against_the_credit_limit(erp: Erp) -> None:
    await stocked(erp)
    customer_id = await erp.customer(credit_limit="500.00")
    first = await erp.order(customer_id, [("TABLE", 1)])  # 321.00
    await ship(erp, first, [("TABLE", 1)])
    [invoice] = await erp.invoice_shipments()
    await erp.post(f"/invoices/{invoice['id']}/void", {"reason": "issued in error"}, "finance")
    # Neither owed on the invoice nor still to be invoiced on the shipped order.
    assert (await erp.order(customer_id, [("TABLE", 1)]))["status"] == "confirmed"
    assert await erp.events("erp.order.on_hold.v1") == []


async def test_the_unshipped_rest_of_an_order_still_counts_after_a_void(erp: Erp) -> None:
    await stocked(erp)
    customer_id = await erp.customer(credit_limit="700.00")
    order = await erp.order(customer_id, [("TABLE", 2)])  # 642.00
    assert order["status"] == "confirmed"
    await ship(erp, order, [("TABLE", 1)])
    [invoice] = await erp.invoice_shipments()
    await erp.post(f"/invoices/{invoice['id']}/void", {"reason": "issued in error"}, "finance")
    # 321.00 of the order is still to ship and invoice: another 321.00 fits in 700.00 ...
    assert (await erp.order(customer_id, [("TABLE", 1)]))["status"] == "confirmed"
    # ... and a third does not.
    assert (await erp.order(customer_id, [("TABLE", 1)]))["status"] == "on_hold"
    [on_hold] = await erp.events("erp.order.on_hold.v1")
    assert on_hold["data"]["credit_exposure"] == "963.00"


async def test_two_copies_of_a_shipment_handled_at_once_make_one_invoice(
    erp: Erp, erp_settings: Settings
) -> None:
    await stocked(erp)
    _, order = await shipped_order(erp)
    assert (await ship(erp, order, [("CHAIR", 3), ("TABLE", 1)])).status_code == 201
    [shipped] = await erp.events("erp.order.shipped.v1")
    shipment_id = uuid.UUID(shipped["data"]["shipment_id"])
    sessions = session_factory(erp.engine)

    async def issue() -> str | None:
        invoice = await issue_for_shipment(UnitOfWork(sessions, erp_settings), shipment_id)
        return invoice.number if invoice is not None else None

    issued = await asyncio.gather(issue(), issue())
    year = shipped["data"]["shipped_at"][:4]
    assert [number for number in issued if number is not None] == [f"INV-{year}-000001"]
    invoices = await erp.invoice_shipments()
    assert [(i["shipment_id"], i["total"]) for i in invoices] == [
        (str(shipment_id), order["total"])
    ]
    assert len(await erp.events("erp.invoice.issued.v1")) == 1


async def test_payment_terms_default_to_the_company_setting(
    erp: Erp, erp_settings: Settings
) -> None:
    await stocked(erp)
    _, order = await shipped_order(erp, payment_terms_days=0)
    company = erp_settings.company.model_copy(update={"payment_terms_days": 45})
    sessions = session_factory(erp.engine)
    async with sessions() as session:
        known = await session.get(Order, uuid.UUID(order["id"]))
        assert known is not None
        assert await _payment_terms(session, known, company.payment_terms_days) == 0
        # An order of a customer ERP holds no terms for (no replica, a snapshot without them).
        unknown = Order(customer_id=uuid.uuid4(), customer_snapshot={"name": "Old GmbH"})
        assert await _payment_terms(session, unknown, company.payment_terms_days) == 45


async def test_the_invoice_api_reads_for_finance_and_sales_only(erp: Erp) -> None:
    await stocked(erp)
    _, order = await shipped_order(erp)
    await ship(erp, order, [("CHAIR", 1)])
    [invoice] = await erp.invoice_shipments()
    for role, expected in (
        ("finance", 200),
        ("sales", 200),
        ("sales_manager", 200),
        ("admin", 200),
        ("warehouse", 403),
        ("support", 403),
        ("hr", 403),
    ):
        response = await erp.client.get(f"/invoices/{invoice['id']}", headers=erp.headers(role))
        assert response.status_code == expected, role
    for role, expected in (("finance", 200), ("sales", 403), ("warehouse", 403)):
        response = await erp.client.get("/payments", headers=erp.headers(role))
        assert response.status_code == expected, role
    assert (
        await erp.client.get(f"/invoices/{uuid.uuid4()}", headers=erp.headers("finance"))
    ).status_code == 404
    body = json.loads(
        (await erp.client.get(f"/invoices/{invoice['id']}", headers=erp.headers("finance"))).text
    )
    assert body["customer_name"] == "Acme GmbH"


class Rollback(Exception):
    """Raised to roll a transaction back after the invoice was issued in it."""


async def test_invoice_numbers_have_no_gaps_under_concurrency_or_rollback(
    erp: Erp, erp_settings: Settings
) -> None:
    await stocked(erp)
    # Shipments of different orders: nothing but the number counter makes them queue.
    customer_id = await erp.customer()
    orders = [await erp.order(customer_id, [("CHAIR", 1)]) for _ in range(6)]
    for order in orders:
        assert (await ship(erp, order, [("CHAIR", 1)])).status_code == 201
    shipments = [
        uuid.UUID(event["data"]["shipment_id"])
        for event in await erp.events("erp.order.shipped.v1")
    ]
    sessions = session_factory(erp.engine)

    # An invoice whose transaction rolls back gives its number back.
    async def issue_then_fail() -> None:
        async with sessions() as session, session.begin():
            invoice = await issue_for_shipment(
                UnitOfWork.joining(session, erp_settings), shipments[0]
            )
            assert invoice is not None
            assert invoice.number.endswith("-000001")
            raise Rollback

    with pytest.raises(Rollback):
        await issue_then_fail()
    assert await erp.events("erp.invoice.issued.v1") == []

    async def issue(shipment_id: uuid.UUID) -> None:
        await issue_for_shipment(UnitOfWork(sessions, erp_settings), shipment_id)

    await asyncio.gather(*(issue(shipment_id) for shipment_id in shipments))
    invoices = await erp.invoice_shipments()
    year = invoices[0]["issued_on"][:4]
    numbers = [i["number"] for i in invoices]
    assert sorted(numbers) == [f"INV-{year}-{n:06d}" for n in range(1, len(orders) + 1)]
    assert sorted(i["shipment_id"] for i in invoices) == sorted(str(s) for s in shipments)
    assert sorted(i["order_id"] for i in invoices) == sorted(o["id"] for o in orders)
    assert sum(Decimal(i["total"]) for i in invoices) == sum(Decimal(o["total"]) for o in orders)


async def test_payments_are_listed_by_when_they_were_recorded(erp: Erp) -> None:
    await stocked(erp)
    _, order = await shipped_order(erp)
    await ship(erp, order, [("CHAIR", 3), ("TABLE", 1)])
    [invoice] = await erp.invoice_shipments()
    made = []
    for amount in ("10.00", "20.00", "30.00"):
        response = await pay(erp, invoice, amount)
        assert response.status_code == 201, response.text
        made.append(response.json())
    ids = [payment["id"] for payment in made]

    async def listed(**filters: Any) -> list[str]:
        response = await erp.client.get(
            "/payments",
            params={"sort": "created_at", "limit": 2, **filters},
            headers=erp.headers("finance"),
        )
        assert response.status_code == 200, response.text
        page = response.json()
        found = [p["id"] for p in page["items"]]
        if page["next_cursor"]:
            found += await listed(**filters, cursor=page["next_cursor"])
        return found

    assert await listed() == ids
    middle, last = made[1]["created_at"], made[2]["created_at"]
    assert await listed(created_from=middle) == ids[1:]
    assert await listed(created_to=middle) == ids[:1]
    assert await listed(created_from=middle, created_to=last) == ids[1:2]
    assert await listed(created_from=middle, invoice_id=invoice["id"]) == ids[1:]
    assert await listed(created_from=middle, customer_id=str(uuid.uuid4())) == []
    for bad in ({"created_from": "2026-11-30T00:00:00"}, {"created_to": "yesterday"}):
        response = await erp.client.get("/payments", params=bad, headers=erp.headers("finance"))
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == f"query.{next(iter(bad))}"


async def test_invoices_of_one_day_are_listed_by_number(erp: Erp) -> None:
    await stocked(erp)
    for _ in range(2):
        _, order = await shipped_order(erp)
        for sku in ("CHAIR", "CHAIR", "CHAIR", "TABLE"):
            await ship(erp, order, [(sku, 1)])
    numbers = [invoice["number"] for invoice in await erp.invoice_shipments()]
    assert len(numbers) == 8
    assert numbers == sorted(numbers)

    async def listed(sort: str, cursor: str | None = None) -> list[str]:
        params = {"sort": sort, "limit": 3, **({"cursor": cursor} if cursor else {})}
        response = await erp.client.get("/invoices", params=params, headers=erp.headers("finance"))
        assert response.status_code == 200, response.text
        page = response.json()
        found = [invoice["number"] for invoice in page["items"]]
        if page["next_cursor"]:
            found += await listed(sort, page["next_cursor"])
        return found

    # All issued today and due on one day: the register reads in number order.
    for sort in ("issued_on", "due_date", "number", "created_at"):
        assert await listed(sort) == numbers, sort
        assert await listed(f"-{sort}") == numbers[::-1], sort
