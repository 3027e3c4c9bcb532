"""The customer overview through the gateway, from the real CRM and ERP served over HTTP:
both sides at once, the parts a role may not read left out, and the CRM side still
answered (200, `degraded: ["erp"]`) when ERP is down. Against stub services: the balance
over more open invoices than one page holds, child spans of the caller's trace, a 404 of
a part that is not the customer's, and ERP too slow to wait for."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from shared_schemas.broker import free_port
from tests.support.edge import bearer, edge_gateway
from tests.support.erp import ship
from tests.support.stub_upstreams import Arrived, Reply, StubUpstream
from tests.support.through_gateway import Services, as_, gateway_to, services

pytestmark = pytest.mark.api


async def a_customer_with_business(live: Services) -> tuple[dict[str, Any], dict[str, Any]]:
    """A CRM customer with two contacts (the primary one last by name), an open inquiry and
    a note; in ERP the same customer with a shipped and invoiced order. Returns the customer
    and the invoice."""
    crm = live.crm
    created = await crm.client.post(
        "/customers",
        json={"kind": "company", "name": "Acme GmbH", "email": "buy@acme.example"},
        headers=as_("admin"),
    )
    assert created.status_code == 201, created.text
    customer = created.json()
    contact = await crm.client.post(
        f"/customers/{customer['id']}/contacts",
        json={"name": "Ada Buyer", "email": "ada@acme.example"},
        headers=as_("admin"),
    )
    assert contact.status_code == 201, contact.text
    primary = await crm.client.post(
        f"/customers/{customer['id']}/contacts",
        json={"name": "Zoe Owner", "email": "zoe@acme.example", "is_primary": True},
        headers=as_("admin"),
    )
    assert primary.status_code == 201, primary.text
    inquiry = await crm.client.post(
        "/inquiries",
        json={"channel": "email", "subject": "Where is my order?", "customer_id": customer["id"]},
        headers=as_("admin"),
    )
    assert inquiry.status_code == 201, inquiry.text
    note = await crm.client.post(
        "/activities",
        json={"kind": "note", "subject": "Called about Q1", "customer_id": customer["id"]},
        headers=as_("admin"),
    )
    assert note.status_code == 201, note.text

    erp = live.erp
    await erp.customer(customer_id=uuid.UUID(customer["id"]), name="Acme GmbH")
    await erp.warehouse("MAIN")
    await erp.product("CHAIR", "100.00", tax_rate="19")
    await erp.receive("CHAIR", 10)
    order = await erp.order(uuid.UUID(customer["id"]), [("CHAIR", 2)])
    assert (await ship(erp, order, [("CHAIR", 2)])).status_code == 201
    [invoice] = await erp.invoice_shipments()
    return customer, invoice


async def test_the_overview_brings_both_sides_and_hides_what_a_role_may_not_read(
    tmp_path: Path,
) -> None:
    async with services(tmp_path) as live:
        customer, invoice = await a_customer_with_business(live)
        async with gateway_to(tmp_path, live.crm_url, live.erp_url) as gateway:
            path = f"/api/customers/{customer['id']}/overview"
            response = await gateway.get(path, headers=as_("sales"))
            assert response.status_code == 200, response.text
            overview = response.json()
            assert overview["degraded"] == []
            assert overview["customer"]["name"] == "Acme GmbH"
            assert [c["name"] for c in overview["contacts"]] == ["Zoe Owner", "Ada Buyer"]
            assert [i["subject"] for i in overview["open_inquiries"]] == ["Where is my order?"]
            assert [a["subject"] for a in overview["recent_activities"]] == ["Called about Q1"]
            assert [o["status"] for o in overview["recent_orders"]] == ["shipped"]
            assert [i["number"] for i in overview["open_invoices"]] == [invoice["number"]]
            assert (
                Decimal(overview["balance"]) == Decimal(invoice["amount_due"]) == Decimal("238.00")
            )

            # Support reads orders but not invoices: that part is left out, not degraded.
            support = (await gateway.get(path, headers=as_("support"))).json()
            assert support["degraded"] == []
            assert support["recent_orders"] is not None
            assert (support["open_invoices"], support["balance"]) == (None, None)

            assert (await gateway.get(path, headers=as_("warehouse"))).status_code == 403
            assert (await gateway.get(path)).status_code == 401
            unknown = await gateway.get(
                f"/api/customers/{uuid.uuid4()}/overview", headers=as_("sales")
            )
            assert unknown.status_code == 404
            assert unknown.headers["content-type"] == "application/problem+json"


async def test_with_erp_down_the_crm_side_is_answered_and_erp_named_degraded(
    tmp_path: Path,
) -> None:
    async with services(tmp_path) as live:
        customer, _ = await a_customer_with_business(live)
        down = f"http://127.0.0.1:{free_port()}"
        async with gateway_to(tmp_path, live.crm_url, down) as gateway:
            response = await gateway.get(
                f"/api/customers/{customer['id']}/overview", headers=as_("sales")
            )
            assert response.status_code == 200, response.text
            overview = response.json()
            assert overview["degraded"] == ["erp"]
            assert overview["customer"]["id"] == customer["id"]
            assert len(overview["contacts"]) == 2
            assert (overview["recent_orders"], overview["open_invoices"], overview["balance"]) == (
                None,
                None,
                None,
            )


CUSTOMER = uuid.uuid4()
EMPTY_PAGE = {"items": [], "next_cursor": None}
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


def answer(body: object, status: int = 200) -> Reply:
    return Reply(status, [("Content-Type", "application/json")], json.dumps(body).encode())


def stub_crm(*, contacts_found: bool = True) -> StubUpstream:
    """A CRM that has the customer; its contacts answer 404 unless `contacts_found`."""

    async def behaviour(_: int, arrived: Arrived) -> Reply:
        path = urlsplit(arrived.target).path
        if path == f"/customers/{CUSTOMER}":
            return answer({"id": str(CUSTOMER), "name": "Acme GmbH"})
        if path == f"/customers/{CUSTOMER}/contacts":
            return answer(EMPTY_PAGE) if contacts_found else answer({"status": 404}, 404)
        return answer(EMPTY_PAGE)

    return StubUpstream(behaviour)


def invoices(first: int, count: int) -> list[dict[str, str]]:
    return [
        {"number": f"INV-2026-{n:06d}", "amount_due": "1.50", "currency": "EUR"}
        for n in range(first, first + count)
    ]


async def stub_erp(_: int, arrived: Arrived) -> Reply:
    """An ERP where the customer has 250 open invoices: a full page of 200, then 50."""
    url = urlsplit(arrived.target)
    if url.path != "/invoices":
        return answer(EMPTY_PAGE)
    cursor = parse_qs(url.query).get("cursor")
    if cursor is None:
        return answer({"items": invoices(1, 200), "next_cursor": "after-200"})
    assert cursor == ["after-200"]
    return answer({"items": invoices(201, 50), "next_cursor": None})


async def test_the_balance_covers_every_page_of_open_invoices_and_spans_are_children(
    database_url: str,
) -> None:
    async with (
        stub_crm(contacts_found=False) as crm,
        StubUpstream(stub_erp) as erp,
        edge_gateway(database_url, crm_url=crm.url, erp_url=erp.url) as gateway,
    ):
        response = await gateway.client.get(
            f"/api/customers/{CUSTOMER}/overview",
            headers={**bearer("sales"), "traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"},
        )
        assert response.status_code == 200, response.text
        overview = response.json()
        assert overview["degraded"] == []
        assert len(overview["open_invoices"]) == 250
        assert Decimal(overview["balance"]) == Decimal("375.00")
        # A 404 of the contacts is not a missing customer: that part is left out.
        assert overview["customer"]["name"] == "Acme GmbH"
        assert overview["contacts"] is None

        invoice_reads = [a for a in erp.arrived if urlsplit(a.target).path == "/invoices"]
        assert len(invoice_reads) == 2
        for read in invoice_reads:
            query = parse_qs(urlsplit(read.target).query)
            assert query["limit"] == ["200"]
            assert set(query["status"]) == {"issued", "partially_paid"}
        # Every call is its own child span of the caller's trace.
        calls = [*crm.arrived, *erp.arrived]
        # ... and carries the id of the caller's request, which came without one.
        assert {call.header("x-request-id") for call in calls} == {response.headers["x-request-id"]}
        parents = [call.header("traceparent") for call in calls]
        assert all(p is not None and p.split("-")[1] == TRACE_ID for p in parents), parents
        spans = {p.split("-")[2] for p in parents if p is not None}
        assert CALLER_SPAN not in spans
        assert len(spans) == len(calls)


async def test_an_erp_that_does_not_answer_in_time_is_named_degraded(database_url: str) -> None:
    release = asyncio.Event()

    async def stalled(_: int, __: Arrived) -> Reply:
        await release.wait()
        return answer(EMPTY_PAGE)

    async with (
        stub_crm() as crm,
        StubUpstream(stalled) as erp,
        edge_gateway(
            database_url,
            crm_url=crm.url,
            erp_url=erp.url,
            upstream_read_timeout=0.3,
            breaker_failures=2,
            breaker_cooldown_seconds=600,
        ) as gateway,
    ):
        try:
            response = await gateway.client.get(
                f"/api/customers/{CUSTOMER}/overview", headers=bearer("sales")
            )
            # The missed answers count against ERP's breaker: now open, the next page is
            # degraded at once, without asking ERP again.
            asked = len(erp.arrived)
            again = await gateway.client.get(
                f"/api/customers/{CUSTOMER}/overview", headers=bearer("sales")
            )
            assert again.json()["degraded"] == ["erp"]
            assert len(erp.arrived) == asked, "an open breaker does not ask ERP"
        finally:
            release.set()
        assert response.status_code == 200, response.text
        overview = response.json()
        assert overview["degraded"] == ["erp"]
        assert overview["customer"]["id"] == str(CUSTOMER)
        assert overview["contacts"] == []
        assert (overview["recent_orders"], overview["open_invoices"], overview["balance"]) == (
            None,
            None,
            None,
        )
        assert erp.arrived, "ERP was asked"
