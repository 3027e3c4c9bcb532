"""A fractional rate reads the same wherever it appears: a product's tax rate and an order
line's discount are written "7.5" and "12.5" when created, read, listed, changed,
invoiced and announced, never with the stored column's four decimals ("7.5000")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.erp import Erp, ship

pytestmark = pytest.mark.api


def rates(line: dict[str, Any]) -> tuple[str, str]:
    return line["discount_pct"], line["tax_rate"]


async def test_a_product_tax_rate_reads_alike_everywhere(erp: Erp) -> None:
    created = await erp.product("WIDGET", "10.00", tax_rate="7.50")
    assert created["tax_rate"] == "7.5"
    headers = erp.headers("warehouse")
    read = (await erp.client.get(f"/products/{created['id']}", headers=headers)).json()
    listed = (await erp.client.get("/products", headers=headers)).json()["items"]
    changed = await erp.client.patch(
        f"/products/{created['id']}", json={"name": "Widget 2"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert [read["tax_rate"], listed[0]["tax_rate"], changed.json()["tax_rate"]] == ["7.5"] * 3
    announced = [
        e["data"]["tax_rate"] for e in await erp.events() if e["type"].startswith("erp.product.")
    ]
    assert announced == ["7.5", "7.5"]


async def test_an_order_line_discount_reads_alike_on_order_and_invoice(erp: Erp) -> None:
    await erp.warehouse("MAIN")
    await erp.product("WIDGET", "3.33", tax_rate="7.5")
    await erp.receive("WIDGET", 10)
    order = await erp.order(
        await erp.customer(), [{"sku": "WIDGET", "quantity": 7, "discount_pct": "12.50"}]
    )
    assert rates(order["lines"][0]) == ("12.5", "7.5")
    read = await erp.get_order(order["id"])
    listed = (await erp.client.get("/orders", headers=erp.headers("sales"))).json()["items"]
    assert rates(read["lines"][0]) == rates(listed[0]["lines"][0]) == ("12.5", "7.5")

    shipped = await ship(erp, order, [("WIDGET", 3)])
    assert shipped.status_code == 201, shipped.text
    [invoice] = await erp.invoice_shipments()
    assert rates(invoice["lines"][0]) == ("12.5", "7.5")
    [issued] = await erp.events("erp.invoice.issued.v1")
    [created] = await erp.events("erp.order.created.v1")
    assert rates(issued["data"]["lines"][0]) == rates(created["data"]["lines"][0])
    assert rates(issued["data"]["lines"][0]) == ("12.5", "7.5")
