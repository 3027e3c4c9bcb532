"""Orders racing for scarce stock through the HTTP API: fifty orders of one unit for ten
units on hand confirm exactly ten and backorder the rest, and the stock ledger still
agrees with the levels (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from tests.support.erp import Erp

pytestmark = pytest.mark.api


async def test_fifty_concurrent_orders_for_ten_units_confirm_ten_and_backorder_forty(
    erp: Erp,
) -> None:
    await erp.warehouse("BER")  # the first warehouse: the default orders reserve in
    await erp.product("WIDGET-1")
    await erp.receive("WIDGET-1", 10)
    # One customer per order: the orders contend for the stock level, not for a
    # customer's credit check.
    customers = [await erp.customer(name=f"Customer {index}") for index in range(50)]
    headers = erp.headers("sales")

    async def order(customer_id: Any) -> Any:
        body = {"customer_id": str(customer_id), "lines": [{"sku": "WIDGET-1", "quantity": 1}]}
        return await erp.client.post("/orders", json=body, headers=headers)

    responses = await asyncio.gather(*(order(customer) for customer in customers))
    assert [response.status_code for response in responses] == [201] * 50, [
        response.text for response in responses if response.status_code != 201
    ]
    orders = [response.json() for response in responses]
    assert Counter(o["status"] for o in orders) == {"confirmed": 10, "backordered": 40}
    for o in orders:
        [line] = o["lines"]
        assert line["quantity_reserved"] == (1 if o["status"] == "confirmed" else 0)

    level = await erp.stock_level("WIDGET-1")
    assert level is not None
    assert (level["on_hand"], level["reserved"], level["available"]) == (10, 10, 0)
    check = await erp.stock_check()
    assert check["drift"] == []
    reservations = await erp.client.get(
        "/stock/movements",
        params={"kind": "reservation", "limit": 200},
        headers=erp.headers("warehouse"),
    )
    confirmed = {o["id"] for o in orders if o["status"] == "confirmed"}
    assert {m["order_id"] for m in reservations.json()["items"]} == confirmed
    assert len(reservations.json()["items"]) == 10
    assert len(await erp.events("erp.order.confirmed.v1")) == 10
    assert len(await erp.events("erp.order.backordered.v1")) == 40
