"""Stock through the HTTP API and the system primitives: receipts, adjustments, transfers,
reservations, releases, shipments, the ledger, levels, low-stock events and roles."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from erp.adapters.stock import StockLevel, StockMovement
from erp.config import Settings
from erp.service import stock
from erp.service.stock import StockLine
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.database import session_factory
from shared_schemas.domain import Conflict
from tests.support.erp import Erp

pytestmark = pytest.mark.api


async def move(erp: Erp, body: dict[str, Any], role: str = "warehouse") -> Any:
    return await erp.client.post("/stock/movements", json=body, headers=erp.headers(role))


async def movement_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(StockMovement)) or 0)


def system(erp: Erp, settings: Settings) -> UnitOfWork:
    """A unit of work acting for the service itself, as orders and shipments use it."""
    return UnitOfWork(session_factory(erp.engine), settings)


async def test_a_receipt_writes_the_ledger_and_the_level(erp: Erp) -> None:
    warehouse = await erp.warehouse("BER")
    product = await erp.product("WIDGET-1")
    posted = await erp.receive("WIDGET-1", 40, warehouse=warehouse)
    [movement] = posted["movements"]
    assert movement["kind"] == "receipt"
    assert (movement["on_hand_delta"], movement["reserved_delta"]) == (40, 0)
    assert movement["product_id"] == product["id"]
    assert movement["actor"].startswith("user-warehouse")
    assert posted["levels"] == [
        {
            "sku": "WIDGET-1",
            "product_id": product["id"],
            "warehouse_id": warehouse["id"],
            "on_hand": 40,
            "reserved": 0,
            "available": 40,
            "version": 1,
            "updated_at": posted["levels"][0]["updated_at"],
        }
    ]
    await erp.receive("WIDGET-1", 2)  # the default warehouse
    level = await erp.stock_level("WIDGET-1", warehouse)
    assert level is not None
    assert (level["on_hand"], level["available"], level["version"]) == (42, 42, 2)
    assert (await erp.stock_check())["drift"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "receipt", "quantity": 0}, "quantity"),
        ({"kind": "receipt", "quantity": -3}, "quantity"),
        ({"kind": "adjustment", "quantity": 0, "reason": "count"}, "quantity"),
        ({"kind": "adjustment", "quantity": 5}, "reason"),
        ({"kind": "adjustment", "quantity": 5, "reason": "   "}, "reason"),
        ({"kind": "receipt", "quantity": 1, "sku": "NOPE"}, "sku"),
        ({"kind": "receipt", "quantity": 1, "warehouse_id": str(uuid.uuid4())}, "warehouse_id"),
        ({"kind": "receipt", "quantity": 1, "warehouse_id": None}, "warehouse_id"),
        ({"kind": "shipment", "quantity": 1}, "kind"),
        ({"kind": "reservation", "quantity": 1}, "kind"),
        ({"kind": "receipt", "quantity": 2_000_000_000}, "quantity"),
        ({"kind": "transfer", "quantity": 1}, "from_warehouse_id"),
    ],
)
async def test_bad_movements_are_422_naming_the_field(
    erp: Erp, body: dict[str, Any], field: str
) -> None:
    warehouse = await erp.warehouse("BER")
    await erp.product("WIDGET-1")
    full = {"sku": "WIDGET-1", "warehouse_id": warehouse["id"], **body}
    response = await move(erp, full)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert await movement_count(erp.engine) == 0


async def test_a_level_never_counts_beyond_what_its_column_holds(erp: Erp) -> None:
    warehouse = await erp.warehouse("BER")
    await erp.product("WIDGET-1")
    await erp.receive("WIDGET-1", 1_000_000_000, warehouse=warehouse)
    await erp.receive("WIDGET-1", 1_000_000_000, warehouse=warehouse)
    body = {"kind": "receipt", "sku": "WIDGET-1", "warehouse_id": warehouse["id"]}
    events = await erp.events()
    response = await move(erp, {**body, "quantity": 1_000_000_000})
    assert response.status_code == 409, response.text
    level = await erp.stock_level("WIDGET-1", warehouse)
    assert level is not None
    assert (level["on_hand"], level["version"]) == (2_000_000_000, 2)
    assert await movement_count(erp.engine) == 2
    assert await erp.events() == events


async def test_an_inactive_warehouse_takes_no_stock(erp: Erp) -> None:
    await erp.warehouse("BER")
    closed = await erp.warehouse("OLD")
    await erp.product("WIDGET-1")
    deactivated = await erp.client.patch(
        f"/warehouses/{closed['id']}", json={"active": False}, headers=erp.headers("warehouse")
    )
    assert deactivated.json()["active"] is False, deactivated.text
    events = await erp.events()
    response = await move(
        erp, {"kind": "receipt", "sku": "WIDGET-1", "warehouse_id": closed["id"], "quantity": 1}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "warehouse_id", "message": "inactive warehouse"}]
    assert await erp.stock_level("WIDGET-1", closed) is None
    assert await movement_count(erp.engine) == 0
    assert await erp.events() == events


async def test_an_adjustment_needs_a_reason_and_cannot_take_reserved_units(
    erp: Erp, erp_settings: Settings
) -> None:
    warehouse = await erp.warehouse("BER")
    product = await erp.product("WIDGET-1")
    await erp.receive("WIDGET-1", 10, warehouse=warehouse)
    async with system(erp, erp_settings) as uow:
        await stock.reserve(
            uow,
            order_id=uuid.uuid4(),
            warehouse_id=uuid.UUID(warehouse["id"]),
            lines=[StockLine(uuid.UUID(product["id"]), "WIDGET-1", 4)],
        )
    before = await movement_count(erp.engine)
    refused = await move(
        erp,
        {
            "kind": "adjustment",
            "sku": "WIDGET-1",
            "warehouse_id": warehouse["id"],
            "quantity": -7,
            "reason": "Water damage",
        },
    )
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert (problem["needed"], problem["available"], problem["shortfall"]) == (7, 6, 1)
    assert "short by 1" in problem["detail"]
    assert await movement_count(erp.engine) == before
    assert await erp.events("erp.stock.adjusted.v1") == []

    adjusted = await move(
        erp,
        {
            "kind": "adjustment",
            "sku": "WIDGET-1",
            "warehouse_id": warehouse["id"],
            "quantity": -6,
            "reason": " Water damage ",
        },
    )
    assert adjusted.status_code == 201, adjusted.text
    [movement] = adjusted.json()["movements"]
    assert movement["reason"] == "Water damage"
    [event] = await erp.events("erp.stock.adjusted.v1")
    assert event["subject"] == product["id"]
    assert event["data"] == {
        "version": 3,
        "product_id": product["id"],
        "sku": "WIDGET-1",
        "warehouse_id": warehouse["id"],
        "on_hand": 4,
        "reserved": 4,
        "available": 0,
        "movement_id": movement["id"],
        "quantity": -6,
        "reason": "Water damage",
    }
    assert (await erp.stock_check())["drift"] == []


async def test_a_transfer_moves_available_units_in_two_linked_rows(erp: Erp) -> None:
    berlin = await erp.warehouse("BER")
    hamburg = await erp.warehouse("HAM")
    await erp.product("WIDGET-1")
    await erp.receive("WIDGET-1", 10, warehouse=berlin)
    body = {
        "kind": "transfer",
        "sku": "WIDGET-1",
        "from_warehouse_id": berlin["id"],
        "to_warehouse_id": hamburg["id"],
        "quantity": 4,
        "reason": "Rebalance",
    }
    response = await move(erp, body)
    assert response.status_code == 201, response.text
    posted = response.json()
    out, into = posted["movements"]
    assert (out["kind"], out["warehouse_id"], out["on_hand_delta"]) == (
        "transfer_out",
        berlin["id"],
        -4,
    )
    assert (into["kind"], into["warehouse_id"], into["on_hand_delta"]) == (
        "transfer_in",
        hamburg["id"],
        4,
    )
    assert out["transfer_id"] == into["transfer_id"] is not None
    assert [(lv["warehouse_id"], lv["on_hand"]) for lv in posted["levels"]] == [
        (berlin["id"], 6),
        (hamburg["id"], 4),
    ]
    too_much = await move(erp, {**body, "quantity": 7})
    assert too_much.status_code == 409
    assert too_much.json()["shortfall"] == 1
    same = await move(erp, {**body, "to_warehouse_id": berlin["id"]})
    assert same.status_code == 422
    assert same.json()["errors"] == [
        {"field": "to_warehouse_id", "message": "must differ from the source"}
    ]
    listed = await erp.client.get(
        "/stock/movements",
        params={"transfer_id": out["transfer_id"]},
        headers=erp.headers("sales"),
    )
    assert [m["kind"] for m in listed.json()["items"]] == ["transfer_in", "transfer_out"]
    assert (await erp.stock_check())["drift"] == []


async def test_stock_arriving_by_transfer_or_adjustment_fills_backorders(erp: Erp) -> None:
    main = await erp.warehouse("MAIN", default=True)
    side = await erp.warehouse("SIDE")
    await erp.product("WIDGET-1", tax_rate="0")
    await erp.receive("WIDGET-1", 5, warehouse=side)
    customer_id = await erp.customer()
    first = await erp.order(customer_id, [("WIDGET-1", 3)])
    second = await erp.order(customer_id, [("WIDGET-1", 2)])
    assert [first["status"], second["status"]] == ["backordered", "backordered"]
    transfer = {
        "kind": "transfer",
        "sku": "WIDGET-1",
        "from_warehouse_id": side["id"],
        "to_warehouse_id": main["id"],
        "quantity": 4,
    }
    moved = await move(erp, transfer)
    assert moved.status_code == 201, moved.text
    # The oldest order first, the next takes the rest; the answer's levels show both.
    assert (await erp.get_order(first["id"]))["status"] == "confirmed"
    assert (await erp.get_order(second["id"]))["status"] == "backordered"
    assert [(lv["on_hand"], lv["reserved"]) for lv in moved.json()["levels"]] == [(1, 0), (4, 4)]
    adjust = {"kind": "adjustment", "sku": "WIDGET-1", "warehouse_id": main["id"]}
    found = await move(erp, {**adjust, "quantity": 1, "reason": "Found in returns"})
    assert found.status_code == 201
    assert (await erp.get_order(second["id"]))["status"] == "confirmed"
    [level] = found.json()["levels"]
    assert (level["on_hand"], level["reserved"], level["available"]) == (5, 5, 0)
    assert (await erp.stock_check())["drift"] == []


async def test_reserve_release_and_ship_keep_to_what_each_order_holds(
    erp: Erp, erp_settings: Settings
) -> None:
    warehouse = await erp.warehouse("BER")
    widget = await erp.product("WIDGET-1")
    gadget = await erp.product("GADGET-1")
    await erp.receive("WIDGET-1", 5, warehouse=warehouse)
    warehouse_id = uuid.UUID(warehouse["id"])
    first, second = uuid.uuid4(), uuid.uuid4()
    widget_line = StockLine(uuid.UUID(widget["id"]), "WIDGET-1", 3)
    gadget_line = StockLine(uuid.UUID(gadget["id"]), "GADGET-1", 2)
    async with system(erp, erp_settings) as uow:
        reserved = await stock.reserve(
            uow, order_id=first, warehouse_id=warehouse_id, lines=[widget_line, gadget_line]
        )
    assert reserved == [3, 0]
    async with system(erp, erp_settings) as uow:
        reserved = await stock.reserve(
            uow, order_id=second, warehouse_id=warehouse_id, lines=[widget_line]
        )
    assert reserved == [2]
    level = await erp.stock_level("WIDGET-1", warehouse)
    assert level is not None
    assert (level["on_hand"], level["reserved"], level["available"]) == (5, 5, 0)

    # The second order holds 2: it can neither release nor ship 3, and nothing changes.
    before = await movement_count(erp.engine)
    attempts: list[Callable[[UnitOfWork], Awaitable[None]]] = [
        lambda uow: stock.release(
            uow, order_id=second, warehouse_id=warehouse_id, lines=[widget_line]
        ),
        lambda uow: stock.ship(
            uow,
            order_id=second,
            shipment_id=uuid.uuid4(),
            warehouse_id=warehouse_id,
            lines=[widget_line],
        ),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict, match="short by 1"):
            async with system(erp, erp_settings) as uow:
                await attempt(uow)
    assert await movement_count(erp.engine) == before

    shipment_id = uuid.uuid4()
    async with system(erp, erp_settings) as uow:
        await stock.ship(
            uow,
            order_id=first,
            shipment_id=shipment_id,
            warehouse_id=warehouse_id,
            lines=[StockLine(widget_line.product_id, "WIDGET-1", 2)],
        )
        await stock.release(
            uow,
            order_id=first,
            warehouse_id=warehouse_id,
            lines=[StockLine(widget_line.product_id, "WIDGET-1", 1)],
        )
    level = await erp.stock_level("WIDGET-1", warehouse)
    assert level is not None
    assert (level["on_hand"], level["reserved"], level["available"]) == (3, 2, 1)
    ledger = await erp.client.get(
        "/stock/movements", params={"order_id": str(first)}, headers=erp.headers("warehouse")
    )
    assert [
        (m["kind"], m["on_hand_delta"], m["reserved_delta"], m["shipment_id"])
        for m in ledger.json()["items"]
    ] == [
        ("release", 0, -1, None),
        ("shipment", -2, -2, str(shipment_id)),
        ("reservation", 0, 3, None),
    ]
    assert all(m["actor"] == "erp-service" for m in ledger.json()["items"])
    assert (await erp.stock_check())["drift"] == []


async def test_stock_low_is_published_when_available_crosses_the_reorder_point(
    erp: Erp, erp_settings: Settings
) -> None:
    warehouse = await erp.warehouse("BER")
    product = await erp.product("WIDGET-1", reorder_point=5)
    await erp.receive("WIDGET-1", 8, warehouse=warehouse)
    line = StockLine(uuid.UUID(product["id"]), "WIDGET-1", 3)
    async with system(erp, erp_settings) as uow:  # 8 → 5: not below
        await stock.reserve(
            uow, order_id=uuid.uuid4(), warehouse_id=uuid.UUID(warehouse["id"]), lines=[line]
        )
    assert await erp.events("erp.stock.low.v1") == []
    async with system(erp, erp_settings) as uow:  # 5 → 2: below
        await stock.reserve(
            uow, order_id=uuid.uuid4(), warehouse_id=uuid.UUID(warehouse["id"]), lines=[line]
        )
    [low] = await erp.events("erp.stock.low.v1")
    assert low["subject"] == product["id"]
    assert low["data"] == {
        "version": 3,
        "product_id": product["id"],
        "sku": "WIDGET-1",
        "warehouse_id": warehouse["id"],
        "on_hand": 8,
        "reserved": 6,
        "available": 2,
        "reorder_point": 5,
    }
    # Still below: no news. Back above, then below again: news.
    adjust = {
        "kind": "adjustment",
        "sku": "WIDGET-1",
        "warehouse_id": warehouse["id"],
        "reason": "Count",
    }
    assert (await move(erp, {**adjust, "quantity": -1})).status_code == 201
    assert len(await erp.events("erp.stock.low.v1")) == 1
    await erp.receive("WIDGET-1", 10, warehouse=warehouse)
    assert (await move(erp, {**adjust, "quantity": -10})).status_code == 201
    lows = await erp.events("erp.stock.low.v1")
    assert [event["data"]["available"] for event in lows] == [2, 1]


async def test_levels_are_listed_by_sku_with_filters_and_cursors(erp: Erp) -> None:
    berlin = await erp.warehouse("BER")
    hamburg = await erp.warehouse("HAM")
    for sku in ("C-3", "A-1", "B-2"):
        product = await erp.product(sku)
        await erp.receive(sku, 1, warehouse=berlin)
        await erp.receive(sku, 2, warehouse=hamburg)
    headers = erp.headers("sales")
    seen: list[tuple[str, int]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = (await erp.client.get("/stock", params=params, headers=headers)).json()
        seen += [(level["sku"], level["on_hand"]) for level in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [("A-1", 1), ("A-1", 2), ("B-2", 1), ("B-2", 2), ("C-3", 1), ("C-3", 2)]
    assert [sku for sku, _ in seen] == ["A-1", "A-1", "B-2", "B-2", "C-3", "C-3"]
    in_hamburg = await erp.client.get(
        "/stock", params={"warehouse_id": hamburg["id"], "sort": "-sku"}, headers=headers
    )
    assert [(lv["sku"], lv["on_hand"]) for lv in in_hamburg.json()["items"]] == [
        ("C-3", 2),
        ("B-2", 2),
        ("A-1", 2),
    ]
    by_product = await erp.client.get(
        "/stock", params={"product_id": product["id"]}, headers=headers
    )
    assert {lv["sku"] for lv in by_product.json()["items"]} == {"B-2"}
    by_sku = await erp.client.get("/stock", params={"sku": ["A-1", "C-3"]}, headers=headers)
    assert len(by_sku.json()["items"]) == 4
    assert (await erp.client.get("/stock?cursor=bogus", headers=headers)).status_code == 422
    assert (await erp.client.get("/stock?limit=201", headers=headers)).status_code == 422
    assert (await erp.client.get("/stock?sort=on_hand", headers=headers)).status_code == 422


async def test_the_ledger_is_listed_newest_first_with_filters(erp: Erp) -> None:
    berlin = await erp.warehouse("BER")
    hamburg = await erp.warehouse("HAM")
    await erp.product("A-1")
    await erp.product("B-2")
    for quantity in range(1, 6):
        await erp.receive("A-1", quantity, warehouse=berlin)
    await erp.receive("B-2", 9, warehouse=hamburg)
    headers = erp.headers("warehouse")
    everything = (await erp.client.get("/stock/movements", headers=headers)).json()["items"]
    assert [m["seq"] for m in everything] == sorted((m["seq"] for m in everything), reverse=True)
    pages: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "sku": "A-1"}
        if cursor:
            params["cursor"] = cursor
        page = (await erp.client.get("/stock/movements", params=params, headers=headers)).json()
        pages += [m["on_hand_delta"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [5, 4, 3, 2, 1]
    in_hamburg = await erp.client.get(
        "/stock/movements", params={"warehouse_id": hamburg["id"]}, headers=headers
    )
    assert [m["sku"] for m in in_hamburg.json()["items"]] == ["B-2"]
    kinds = await erp.client.get(
        "/stock/movements", params={"kind": ["adjustment", "transfer_in"]}, headers=headers
    )
    assert kinds.json()["items"] == []
    newest = everything[0]["created_at"]
    window = await erp.client.get(
        "/stock/movements",
        params={"created_from": everything[-1]["created_at"], "created_to": newest},
        headers=headers,
    )
    assert len(window.json()["items"]) == len(everything) - 1
    for bad in ("kind=theft", "created_from=2026-01-01T00:00:00", "order_id=42"):
        response = await erp.client.get(f"/stock/movements?{bad}", headers=headers)
        assert response.status_code == 422, bad
    for cursor in ("bogus", "WyItc2VxIiwiMSJd", "WyItc2VxIiwxMDAwMDAwMDAwMDAwMDAwMDAwMDAwXQ"):
        response = await erp.client.get(f"/stock/movements?cursor={cursor}", headers=headers)
        assert response.status_code == 422, cursor


async def test_the_check_finds_levels_that_left_the_ledger(erp: Erp) -> None:
    warehouse = await erp.warehouse("BER")
    product = await erp.product("WIDGET-1")
    await erp.receive("WIDGET-1", 10, warehouse=warehouse)
    clean = await erp.stock_check()
    assert clean == {"consistent": True, "levels_checked": 1, "movements_checked": 1, "drift": []}
    # Tampered with behind the ledger's back: the check names the level and both counts.
    async with erp.engine.begin() as connection:
        await connection.execute(update(StockLevel).values(on_hand=12))
    checked = await erp.stock_check()
    assert checked["consistent"] is False
    assert checked["drift"] == [
        {
            "product_id": product["id"],
            "warehouse_id": warehouse["id"],
            "sku": "WIDGET-1",
            "on_hand": 12,
            "reserved": 0,
            "on_hand_from_movements": 10,
            "reserved_from_movements": 0,
        }
    ]


async def test_an_idempotency_key_posts_a_movement_once(erp: Erp) -> None:
    warehouse = await erp.warehouse("BER")
    await erp.product("WIDGET-1")
    body = {"kind": "receipt", "sku": "WIDGET-1", "warehouse_id": warehouse["id"], "quantity": 3}
    headers = {**erp.headers("warehouse"), "Idempotency-Key": "receipt-4711"}
    first = await erp.client.post("/stock/movements", json=body, headers=headers)
    again = await erp.client.post("/stock/movements", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    changed = await erp.client.post(
        "/stock/movements", json={**body, "quantity": 4}, headers=headers
    )
    assert changed.status_code == 422
    level = await erp.stock_level("WIDGET-1", warehouse)
    assert level is not None
    assert level["on_hand"] == 3
    assert await movement_count(erp.engine) == 1


@pytest.mark.parametrize(
    ("role", "read", "move_status", "check"),
    [
        ("admin", 200, 201, 200),
        ("warehouse", 200, 201, 200),
        ("sales", 200, 403, 403),
        ("sales_manager", 200, 403, 403),
        ("support", 403, 403, 403),
        ("finance", 403, 403, 403),
        ("hr", 403, 403, 403),
    ],
)
async def test_roles_on_stock(erp: Erp, role: str, read: int, move_status: int, check: int) -> None:
    warehouse = await erp.warehouse("BER")
    await erp.product("WIDGET-1")
    headers = erp.headers(role)
    assert (await erp.client.get("/stock", headers=headers)).status_code == read
    assert (await erp.client.get("/stock/movements", headers=headers)).status_code == read
    assert (await erp.client.get("/stock/check", headers=headers)).status_code == check
    body = {"kind": "receipt", "sku": "WIDGET-1", "warehouse_id": warehouse["id"], "quantity": 1}
    assert (await move(erp, body, role)).status_code == move_status
    level = await erp.stock_level("WIDGET-1", warehouse)
    assert (level["on_hand"] if level else 0) == (1 if move_status == 201 else 0)
    assert await movement_count(erp.engine) == (1 if move_status == 201 else 0)
    assert (await erp.client.get("/stock")).status_code == 401
