"""The customer overview through the gateway, from the real CRM and ERP served over HTTP:
both sides at once, the parts a role may not read left out, and the CRM side still
answered (200, `degraded: ["erp"]`) when ERP is down."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared_schemas.broker import free_port
from tests.support.erp import ship
from tests.support.through_gateway import Services, as_, gateway_to, services

pytestmark = pytest.mark.api


async def a_customer_with_business(live: Services) -> tuple[dict[str, Any], dict[str, Any]]:
    """A CRM customer with a contact, an open inquiry and a note; in ERP the same customer
    with a shipped and invoiced order. Returns the customer and the invoice."""
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
            assert [c["name"] for c in overview["contacts"]] == ["Ada Buyer"]
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
            assert len(overview["contacts"]) == 1
            assert (overview["recent_orders"], overview["open_invoices"], overview["balance"]) == (
                None,
                None,
                None,
            )
