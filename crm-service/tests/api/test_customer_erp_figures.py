"""The figures ERP reported about a customer show to the roles that read them in ERP, as its
timeline does (design §7): `open_balance` and `lifetime_value` come from invoices, which
support may not read, so support's customer reads and lists leave them out; the
`last_order_*` fields follow ERP orders, which every reader of customers may read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.crm import Crm, ErpInvoice, ErpOrder

pytestmark = pytest.mark.api

NOW = datetime.now(UTC).replace(microsecond=0)
BALANCES = ("open_balance", "lifetime_value")
LAST_ORDER = ("last_order_id", "last_order_number", "last_order_at")


async def invoiced_customer(crm: Crm, owner: uuid.UUID) -> tuple[str, Any]:
    created = await crm.client.post(
        "/customers",
        json={"kind": "company", "name": "Acme GmbH"},
        headers=crm.headers("sales", owner),
    )
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]
    order = ErpOrder(uuid.UUID(customer_id), number="SO-1")
    await crm.publish_at(order.created(), NOW - timedelta(hours=2))
    invoice = ErpInvoice(order, number="INV-1")
    await crm.publish_at(invoice.issued(), NOW - timedelta(hours=1))
    return customer_id, invoice.total


@pytest.mark.parametrize(
    ("role", "sees_balances"),
    [
        ("support", False),
        ("sales", True),
        ("sales_manager", True),
        ("finance", True),
        ("admin", True),
    ],
)
async def test_customer_reads_and_lists_show_erp_figures_only_to_roles_reading_them(
    crm: Crm, sales_rep: uuid.UUID, role: str, sees_balances: bool
) -> None:
    customer_id, total = await invoiced_customer(crm, sales_rep)
    headers = crm.headers(role)

    one = await crm.client.get(f"/customers/{customer_id}", headers=headers)
    listed = await crm.client.get("/customers", headers=headers)
    assert (one.status_code, listed.status_code) == (200, 200), (one.text, listed.text)
    [item] = listed.json()["items"]
    for shown in (one.json(), item):
        if sees_balances:
            assert (shown["open_balance"], shown["lifetime_value"]) == (str(total), str(total))
        else:
            assert not set(BALANCES) & set(shown), shown
        assert shown["last_order_number"] == "SO-1"
        assert set(LAST_ORDER) <= set(shown)


async def test_a_change_answers_with_the_figures_the_role_may_read(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    customer_id, total = await invoiced_customer(crm, sales_rep)
    changed = await crm.client.patch(
        f"/customers/{customer_id}",
        json={"industry": "Machinery"},
        headers=crm.headers("sales", sales_rep),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["open_balance"] == str(total)


async def test_the_openapi_document_marks_the_figures_optional_and_never_null(crm: Crm) -> None:
    document = (await crm.client.get("/openapi.json")).json()
    schema = document["components"]["schemas"]["CustomerOut"]
    assert not set(BALANCES + LAST_ORDER) & set(schema["required"])
    for name in BALANCES:
        assert schema["properties"][name]["type"] == "string"
        assert "anyOf" not in schema["properties"][name]
