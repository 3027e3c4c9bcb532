"""Orders racing for scarce stock through the HTTP API: fifty orders of one unit for ten
units on hand confirm exactly ten and backorder the rest, and the stock ledger still
agrees with the levels (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from erp.config import Settings
from shared_schemas.database import create_engine
from tests.support.erp import Erp
from tests.support.races import holding, waiting

pytestmark = pytest.mark.api

# Orders seen waiting for locks together while the stock is held.
OVERLAPPING = 15


async def test_fifty_concurrent_orders_for_ten_units_confirm_ten_and_backorder_forty(
    erp: Erp, erp_settings: Settings
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

    placing = asyncio.gather(*(order(customer) for customer in customers))
    if erp.engine.dialect.name == "postgresql":
        # The widgets' level is held while the orders come in: they are all under way at
        # once (queued on the locks orders take, the level last), not one after another.
        # The holder and the lock count use an engine of their own.
        side = create_engine(erp_settings.database_url)
        try:
            async with holding(
                side, "SELECT 1 FROM stock_levels WHERE sku = 'WIDGET-1' FOR UPDATE"
            ):
                await waiting(side, OVERLAPPING)
        finally:
            await side.dispose()
    responses = await placing
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
