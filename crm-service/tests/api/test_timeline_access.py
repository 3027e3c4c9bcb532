"""A customer's timeline shows each role only the ERP facts it may read in ERP, as the
event stream and the gateway's customer overview do (design §7): support reads orders and
their shipments but no invoices or payments; sales reads invoices but no payments."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.crm import Crm, ErpInvoice, ErpOrder

pytestmark = pytest.mark.api

NOW = datetime.now(UTC).replace(microsecond=0)


async def test_each_role_sees_the_erp_facts_it_may_read_and_no_other(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    created = await crm.client.post(
        "/customers",
        json={"kind": "company", "name": "Acme GmbH"},
        headers=crm.headers("sales", sales_rep),
    )
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]
    order = ErpOrder(uuid.UUID(customer_id), number="SO-1")
    await crm.publish_at(order.created(), NOW - timedelta(hours=4))
    await crm.publish_at(order.shipped(), NOW - timedelta(hours=3))
    invoice = ErpInvoice(order, number="INV-1")
    await crm.publish_at(invoice.issued(), NOW - timedelta(hours=2))
    await crm.publish_at(invoice.payment("10.00"), NOW - timedelta(hours=1))

    shown: dict[str, list[str]] = {}
    for role in ("support", "sales", "sales_manager", "finance", "admin"):
        response = await crm.client.get(
            f"/customers/{customer_id}/timeline", headers=crm.headers(role)
        )
        assert response.status_code == 200, response.text
        shown[role] = [item["ref_type"] for item in response.json()["items"]]
    assert shown == {
        "support": ["shipment", "order"],
        "sales": ["invoice", "shipment", "order"],
        "sales_manager": ["invoice", "shipment", "order"],
        "finance": ["payment", "invoice", "shipment", "order"],
        "admin": ["payment", "invoice", "shipment", "order"],
    }
    # Asking for a kind the role may not read finds nothing, rather than a 403 telling
    # that some exist.
    asked = await crm.client.get(
        f"/customers/{customer_id}/timeline",
        params={"kind": "payment"},
        headers=crm.headers("support"),
    )
    assert (asked.status_code, asked.json()["items"]) == (200, [])
