"""Stock under concurrency: racing reservations never take more than is available, and
racing user movements end in a 201 or a 409, never a 500, with the ledger and levels
still in agreement (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from typing import Any

import pytest

from erp.config import Settings
from erp.service import stock
from erp.service.stock import StockLine
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.database import create_engine, session_factory
from tests.support.erp import Erp
from tests.support.races import holding, waiting

pytestmark = pytest.mark.api

# Reservations seen waiting together for the level's lock: more than the ten units, so
# the late ones can only get nothing if the lock made them see the early ones' take.
OVERLAPPING = 15


async def test_fifty_concurrent_reservations_for_ten_units_reserve_exactly_ten(
    erp: Erp, erp_settings: Settings
) -> None:
    warehouse = await erp.warehouse("BER")
    product = await erp.product("WIDGET-1")
    await erp.receive("WIDGET-1", 10, warehouse=warehouse)
    sessions = session_factory(erp.engine)
    warehouse_id = uuid.UUID(warehouse["id"])
    line = StockLine(uuid.UUID(product["id"]), "WIDGET-1", 1)

    async def reserve_for_one_order() -> int:
        async with UnitOfWork(sessions, erp_settings) as uow:
            [units] = await stock.reserve(
                uow, order_id=uuid.uuid4(), warehouse_id=warehouse_id, lines=[line]
            )
        return units

    racing = asyncio.gather(*(reserve_for_one_order() for _ in range(50)))
    if erp.engine.dialect.name == "postgresql":
        # The level is held while the reservations start: they really overlap, queued on
        # its row lock, and each must see the units the ones before it took. (SQLite
        # writers queue on its write lock anyway.) The holder and the lock count have an
        # engine of their own, so every pooled connection of the service can wait.
        side = create_engine(erp_settings.database_url)
        try:
            async with holding(
                side,
                "SELECT 1 FROM stock_levels WHERE warehouse_id = :warehouse AND sku = 'WIDGET-1' "
                "FOR UPDATE",
                warehouse=warehouse["id"],
            ):
                await waiting(side, OVERLAPPING)
        finally:
            await side.dispose()
    reserved = await racing
    assert Counter(reserved) == {1: 10, 0: 40}
    level = await erp.stock_level("WIDGET-1", warehouse)
    assert level is not None
    assert (level["on_hand"], level["reserved"], level["available"]) == (10, 10, 0)
    ledger = await erp.client.get(
        "/stock/movements",
        params={"kind": "reservation", "limit": 200},
        headers=erp.headers("warehouse"),
    )
    movements = ledger.json()["items"]
    assert len(movements) == 10
    assert len({m["order_id"] for m in movements}) == 10
    assert level["version"] == 11  # the receipt and ten reservations, nothing else
    assert (await erp.stock_check())["drift"] == []


async def test_racing_user_movements_get_201_or_409_and_the_books_still_agree(
    erp: Erp, erp_settings: Settings
) -> None:
    berlin = await erp.warehouse("BER")
    hamburg = await erp.warehouse("HAM")
    product = await erp.product("WIDGET-1")
    sessions = session_factory(erp.engine)
    headers = erp.headers("warehouse")
    rng = random.Random(20261124)

    def adjustment(warehouse: dict[str, Any]) -> dict[str, Any]:
        return {
            "kind": "adjustment",
            "sku": "WIDGET-1",
            "warehouse_id": warehouse["id"],
            "quantity": -rng.randint(1, 4),
            "reason": "Cycle count",
        }

    def transfer(source: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
        return {
            "kind": "transfer",
            "sku": "WIDGET-1",
            "from_warehouse_id": source["id"],
            "to_warehouse_id": target["id"],
            "quantity": rng.randint(1, 3),
        }

    # No level exists yet: the first receipts in each warehouse also race to create it.
    bodies: list[dict[str, Any]] = []
    for _ in range(15):
        for warehouse in (berlin, hamburg):
            bodies.append(
                {
                    "kind": "receipt",
                    "sku": "WIDGET-1",
                    "warehouse_id": warehouse["id"],
                    "quantity": rng.randint(1, 3),
                }
            )
            bodies.append(adjustment(warehouse))
        # Transfers both ways at once: the levels are locked in one order, so no deadlock.
        bodies.append(transfer(berlin, hamburg))
        bodies.append(transfer(hamburg, berlin))
    rng.shuffle(bodies)

    async def post(body: dict[str, Any]) -> int:
        response = await erp.client.post("/stock/movements", json=body, headers=headers)
        assert response.status_code in (201, 409), response.text
        return response.status_code

    async def reserve_some() -> int:
        async with UnitOfWork(sessions, erp_settings) as uow:
            [units] = await stock.reserve(
                uow,
                order_id=uuid.uuid4(),
                warehouse_id=uuid.UUID(berlin["id"]),
                lines=[StockLine(uuid.UUID(product["id"]), "WIDGET-1", 2)],
            )
        return units

    outcomes = await asyncio.gather(
        *(post(body) for body in bodies), *(reserve_some() for _ in range(10))
    )
    statuses = Counter(outcomes[: len(bodies)])
    assert statuses[201] >= 30  # every receipt at least
    check = await erp.stock_check()
    assert check["drift"] == []
    ledger = await erp.client.get(
        "/stock/movements", params={"limit": 200}, headers=erp.headers("admin")
    )
    movements = ledger.json()["items"]
    assert len(movements) == check["movements_checked"] < 200
    for warehouse in (berlin, hamburg):
        level = await erp.stock_level("WIDGET-1", warehouse)
        assert level is not None
        mine = [m for m in movements if m["warehouse_id"] == warehouse["id"]]
        assert level["on_hand"] == sum(m["on_hand_delta"] for m in mine) >= 0
        assert level["reserved"] == sum(m["reserved_delta"] for m in mine)
        assert 0 <= level["reserved"] <= level["on_hand"]
        assert level["version"] == len(mine)
    # Refused movements left nothing behind: every transfer has both halves.
    halves = Counter(m["transfer_id"] for m in movements if m["transfer_id"])
    assert set(halves.values()) <= {2}
