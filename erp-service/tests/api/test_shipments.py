"""Shipments and delivery: partial and full shipments from reservations, what may not
ship, the stock and ledger after shipping, events, idempotent retries, listing and roles."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from erp.adapters.sales import OrderLine
from erp.domain.orders import status_after_shipment
from erp.service.shipments import RequestedLine, plan_shipment
from shared_schemas.domain import Conflict, IllegalTransition, RuleViolation
from tests.support.erp import Erp, ship

pytestmark = pytest.mark.api


async def stocked_order(
    erp: Erp, *, widgets: int = 4, chairs: int = 2, credit_limit: str | None = None
) -> dict[str, Any]:
    """A default warehouse with 10 widgets and 10 chairs, and a customer's order of
    `widgets` and `chairs` (a line each when more than none)."""
    await erp.warehouse("MAIN")
    await erp.product("WIDGET", "100.00", tax_rate="19")
    await erp.product("CHAIR", "20.00", tax_rate="19")
    await erp.receive("WIDGET", 10)
    await erp.receive("CHAIR", 10)
    customer_id = await erp.customer(credit_limit=credit_limit)
    lines = [(sku, n) for sku, n in (("WIDGET", widgets), ("CHAIR", chairs)) if n]
    return await erp.order(customer_id, lines)


async def level(erp: Erp, sku: str) -> tuple[int, int]:
    found = await erp.stock_level(sku)
    assert found is not None
    return found["on_hand"], found["reserved"]


async def shipment_movements(erp: Erp, order_id: str) -> list[dict[str, Any]]:
    response = await erp.client.get(
        "/stock/movements",
        params={"order_id": order_id, "kind": "shipment"},
        headers=erp.headers("warehouse"),
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_partial_shipments_then_the_last_one_ship_the_order(erp: Erp) -> None:
    order = await stocked_order(erp, widgets=4, chairs=2)
    assert order["status"] == "confirmed"
    widget_line, chair_line = order["lines"]
    # Recorded after the fact: a moment after the order was taken, on whole seconds.
    shipped_at = (moment(order["created_at"]) + timedelta(seconds=1)).replace(microsecond=0)

    first = await ship(
        erp,
        order,
        [("WIDGET", 1)],
        carrier="DHL",
        tracking_number="TRACK-1",
        shipped_at=shipped_at.isoformat(),
    )
    assert first.status_code == 201, first.text
    shipment = first.json()
    assert first.headers["location"] == f"/shipments/{shipment['id']}"
    assert re.fullmatch(rf"SH-{shipped_at.year}-000001", shipment["number"])
    assert shipment["order_id"] == order["id"]
    assert shipment["warehouse_id"] == order["warehouse_id"]
    assert (shipment["carrier"], shipment["tracking_number"]) == ("DHL", "TRACK-1")
    assert moment(shipment["shipped_at"]) == shipped_at
    assert shipment["lines"] == [
        {
            "order_line_id": widget_line["id"],
            "sku": "WIDGET",
            "product_id": widget_line["product_id"],
            "quantity": 1,
        }
    ]
    assert shipment["created_by"] == "user-warehouse-none"
    assert shipment["order_status"] == "partially_shipped"
    assert await level(erp, "WIDGET") == (9, 3)

    # By line id, two lines at once; the order stays partially shipped but changes version.
    second = await ship(
        erp,
        order,
        [
            {"order_line_id": widget_line["id"], "quantity": 3},
            {"order_line_id": chair_line["id"], "quantity": 1},
        ],
        carrier="DHL",
    )
    assert second.status_code == 201, second.text
    assert second.json()["order_status"] == "partially_shipped"
    assert second.json()["order_version"] > shipment["order_version"]
    assert re.fullmatch(r"SH-\d{4}-000002", second.json()["number"])

    last = await ship(erp, order, [("CHAIR", 1)])
    assert last.status_code == 201, last.text
    assert last.json()["order_status"] == "shipped"
    assert (last.json()["carrier"], last.json()["tracking_number"]) == (None, None)

    shipped = await erp.get_order(order["id"])
    assert shipped["status"] == "shipped"
    assert shipped["shipped_at"] is not None
    assert shipped["version"] == last.json()["order_version"]
    assert [(line["quantity_shipped"], line["quantity_reserved"]) for line in shipped["lines"]] == [
        (4, 0),
        (2, 0),
    ]
    # Shipping consumed the reservations: on_hand and reserved both went down.
    assert await level(erp, "WIDGET") == (6, 0)
    assert await level(erp, "CHAIR") == (8, 0)
    assert (await erp.stock_check())["drift"] == []

    events = await erp.events("erp.order.shipped.v1")
    assert [e["data"]["status"] for e in events] == ["partially_shipped"] * 2 + ["shipped"]
    versions = [e["data"]["version"] for e in events]
    assert versions == sorted(set(versions))
    assert versions[-1] == shipped["version"]
    first_event = events[0]
    assert first_event["subject"] == order["id"]
    assert first_event["actor"] == "user-warehouse-none"
    data = first_event["data"]
    assert moment(data.pop("shipped_at")) == shipped_at
    assert data == {
        "version": versions[0],
        "order_id": order["id"],
        "number": order["number"],
        "quote_id": None,
        "customer_id": order["customer_id"],
        "status": "partially_shipped",
        "shipment_id": shipment["id"],
        "shipment_number": shipment["number"],
        "lines": [{"sku": "WIDGET", "product_id": widget_line["product_id"], "quantity": 1}],
        "carrier": "DHL",
        "tracking_number": "TRACK-1",
    }
    assert sorted((line["sku"], line["quantity"]) for line in events[1]["data"]["lines"]) == [
        ("CHAIR", 1),
        ("WIDGET", 3),
    ]

    # The ledger holds one shipment movement per shipped product and shipment.
    movements = await shipment_movements(erp, order["id"])
    by_shipment = sorted(
        (m["shipment_id"], m["sku"], m["on_hand_delta"], m["reserved_delta"]) for m in movements
    )
    assert by_shipment == sorted(
        [
            (shipment["id"], "WIDGET", -1, -1),
            (second.json()["id"], "WIDGET", -3, -3),
            (second.json()["id"], "CHAIR", -1, -1),
            (last.json()["id"], "CHAIR", -1, -1),
        ]
    )

    again = await ship(erp, order, [("WIDGET", 1)])
    assert again.status_code == 409
    assert again.json()["current_status"] == "shipped"
    assert again.json()["allowed"] == ["deliver"]


async def test_more_than_ordered_or_bad_lines_are_422_naming_the_line(erp: Erp) -> None:
    order = await stocked_order(erp, widgets=4, chairs=2)
    assert (await ship(erp, order, [("WIDGET", 3)])).status_code == 201
    version = (await erp.get_order(order["id"]))["version"]
    events = len(await erp.events())

    too_many = await ship(erp, order, [("CHAIR", 1), ("WIDGET", 2)])
    assert too_many.status_code == 422, too_many.text
    [error] = too_many.json()["errors"]
    assert error["field"] == "lines.1.quantity"
    assert error["message"] == "WIDGET: 2 is more than the 1 of 4 ordered units not shipped yet"

    bad = await ship(
        erp,
        order,
        [
            ("GADGET", 1),
            {"order_line_id": str(uuid.uuid4()), "quantity": 1},
            ("CHAIR", 1),
            {"order_line_id": order["lines"][1]["id"], "quantity": 1},
        ],
    )
    assert bad.status_code == 422, bad.text
    assert [e["field"] for e in bad.json()["errors"]] == [
        "lines.0.sku",
        "lines.1.order_line_id",
        "lines.3",
    ]

    for body in (
        {"lines": []},
        {"lines": [{"sku": "WIDGET", "quantity": 0}]},
        {"lines": [{"quantity": 1}]},
        {"lines": [{"sku": "WIDGET", "order_line_id": order["lines"][0]["id"], "quantity": 1}]},
        {"lines": [{"sku": "WIDGET", "quantity": 1}], "carrier": ""},
        {"lines": [{"sku": "WIDGET", "quantity": 1}], "shipped_at": "2026-01-01T10:00:00"},
        {"lines": [{"sku": "WIDGET", "quantity": 1}], "colour": "red"},
    ):
        response = await erp.client.post(
            f"/orders/{order['id']}/shipments", json=body, headers=erp.headers("warehouse")
        )
        assert response.status_code == 422, body

    future = datetime.now(UTC) + timedelta(days=1)
    before_order = moment(order["created_at"]) - timedelta(days=1)
    for when in (future, before_order):
        response = await ship(erp, order, [("WIDGET", 1)], shipped_at=when.isoformat())
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "shipped_at"

    unknown = await erp.client.post(
        f"/orders/{uuid.uuid4()}/shipments",
        json={"lines": [{"sku": "WIDGET", "quantity": 1}]},
        headers=erp.headers("warehouse"),
    )
    assert unknown.status_code == 404
    # Nothing of any refused request was written.
    after = await erp.get_order(order["id"])
    assert after["version"] == version
    assert [line["quantity_shipped"] for line in after["lines"]] == [3, 0]
    assert len(await erp.events()) == events
    assert await level(erp, "WIDGET") == (7, 1)


def test_only_reserved_units_ship_and_never_more_than_ordered() -> None:
    # Through the API a confirmed or partially shipped order has every unshipped unit
    # reserved; the rule still holds on its own, a 409 (the stock is short, not the input).
    line = OrderLine(
        id=uuid.uuid4(), sku="WIDGET", quantity=5, quantity_reserved=2, quantity_shipped=1
    )
    [planned] = plan_shipment([line], [RequestedLine(quantity=2, sku="WIDGET")])
    assert (planned.line, planned.quantity) == (line, 2)
    with pytest.raises(Conflict) as short:
        plan_shipment([line], [RequestedLine(quantity=3, order_line_id=line.id)])
    assert short.value.extra["errors"] == [
        {
            "field": "lines.0.quantity",
            "message": "WIDGET: only 2 units are reserved and not shipped yet",
        }
    ]
    with pytest.raises(RuleViolation) as over:
        plan_shipment([line], [RequestedLine(quantity=5, sku="WIDGET")])
    assert over.value.errors[0]["field"] == "lines.0.quantity"
    twice = OrderLine(
        id=uuid.uuid4(), sku="WIDGET", quantity=1, quantity_reserved=1, quantity_shipped=0
    )
    with pytest.raises(RuleViolation) as ambiguous:
        plan_shipment([line, twice], [RequestedLine(quantity=1, sku="WIDGET")])
    assert "order_line_id" in ambiguous.value.errors[0]["message"]


def test_a_pending_order_cannot_ship() -> None:
    # Orders leave pending in the transaction that creates or releases them, so the API
    # never shows one; the rule the shipment route applies still refuses it.
    with pytest.raises(IllegalTransition) as refused:
        status_after_shipment("pending", False)
    assert refused.value.extra == {"current_status": "pending", "allowed": ["cancel"]}


async def order_in(erp: Erp, status: str) -> dict[str, Any]:
    """An order of 4 widgets brought to `status` through the API."""
    if status == "backordered":
        await erp.warehouse("MAIN")
        await erp.product("WIDGET", "100.00")
        order = await erp.order(await erp.customer(), [("WIDGET", 4)])
    else:
        limit = "1.00" if status == "on_hold" else None
        order = await stocked_order(erp, widgets=4, chairs=0, credit_limit=limit)
    if status in ("shipped", "delivered"):
        assert (await ship(erp, order, [("WIDGET", 4)])).status_code == 201
    if status == "delivered":
        await erp.post(f"/orders/{order['id']}/deliver", role="warehouse")
    if status == "cancelled":
        await erp.post(f"/orders/{order['id']}/cancel", role="admin")
    order = await erp.get_order(order["id"])
    assert order["status"] == status
    return order


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        ("on_hold", ["release", "cancel"]),
        ("backordered", ["cancel"]),
        ("cancelled", []),
        ("shipped", ["deliver"]),
        ("delivered", []),
    ],
)
async def test_an_order_that_may_not_ship_is_409_naming_what_it_may_do(
    erp: Erp, status: str, allowed: list[str]
) -> None:
    order = await order_in(erp, status)
    shipments = len(await erp.events("erp.order.shipped.v1"))
    response = await ship(erp, order, [("WIDGET", 1)])
    assert response.status_code == 409, response.text
    problem = response.json()
    assert (problem["current_status"], problem["allowed"]) == (status, allowed)
    assert (await erp.get_order(order["id"]))["version"] == order["version"]
    assert len(await erp.events("erp.order.shipped.v1")) == shipments


async def test_a_shipment_against_an_older_version_of_the_order_ships_nothing(erp: Erp) -> None:
    order = await stocked_order(erp, widgets=4, chairs=0)
    first = await ship(erp, order, [("WIDGET", 1)])
    assert first.status_code == 201, first.text
    now = await erp.get_order(order["id"])
    events = await erp.events()

    stale = await ship(erp, order, [("WIDGET", 3)], headers={"If-Match": f'"{order["version"]}"'})

    assert stale.status_code == 412, stale.text
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["current_version"] == now["version"]
    assert await erp.get_order(order["id"]) == now
    assert await level(erp, "WIDGET") == (9, 3)
    assert len(await shipment_movements(erp, order["id"])) == 1
    assert await erp.events() == events
    current = await ship(erp, order, [("WIDGET", 3)], headers={"If-Match": f'"{now["version"]}"'})
    assert current.status_code == 201, current.text
    assert current.json()["order_status"] == "shipped"
    assert await level(erp, "WIDGET") == (6, 0)


async def test_only_a_fully_shipped_order_is_delivered(erp: Erp) -> None:
    order = await stocked_order(erp, widgets=4, chairs=0)
    deliver = f"/orders/{order['id']}/deliver"
    confirmed = await erp.client.post(deliver, headers=erp.headers("warehouse"))
    assert confirmed.status_code == 409
    assert confirmed.json()["allowed"] == ["ship", "cancel"]
    assert await erp.get_order(order["id"]) == order

    first = await ship(erp, order, [("WIDGET", 1)])
    assert first.status_code == 201
    partly = await erp.client.post(deliver, headers=erp.headers("warehouse"))
    assert partly.status_code == 409
    assert (partly.json()["current_status"], partly.json()["allowed"]) == (
        "partially_shipped",
        ["ship", "cancel"],
    )

    # Recorded after the fact with an earlier time: the order left in full with the first.
    last = await ship(erp, order, [("WIDGET", 3)], shipped_at=order["created_at"])
    assert last.status_code == 201, last.text
    shipped = await erp.get_order(order["id"])
    assert moment(shipped["shipped_at"]) == moment(first.json()["shipped_at"])
    stale = await erp.client.post(
        deliver, headers={**erp.headers("warehouse"), "If-Match": f'"{shipped["version"] - 1}"'}
    )
    assert stale.status_code == 412
    for when in (
        datetime.now(UTC) + timedelta(days=1),
        moment(shipped["shipped_at"]) - timedelta(1),
    ):
        early_or_late = await erp.client.post(
            deliver, json={"delivered_at": when.isoformat()}, headers=erp.headers("warehouse")
        )
        assert early_or_late.status_code == 422, when
        assert early_or_late.json()["errors"][0]["field"] == "delivered_at"
    # None of the refused deliveries took effect.
    assert await erp.get_order(order["id"]) == shipped
    assert await erp.events("erp.order.delivered.v1") == []

    delivered_at = (moment(shipped["shipped_at"]) + timedelta(seconds=1)).replace(microsecond=0)
    response = await erp.client.post(
        deliver,
        json={"delivered_at": delivered_at.isoformat()},
        headers={**erp.headers("warehouse"), "If-Match": f'"{shipped["version"]}"'},
    )
    assert response.status_code == 200, response.text
    delivered = response.json()
    assert delivered["status"] == "delivered"
    assert moment(delivered["delivered_at"]) == delivered_at
    assert response.headers["etag"] == f'"{delivered["version"]}"'
    assert delivered["version"] == shipped["version"] + 1
    [event] = await erp.events("erp.order.delivered.v1")
    data = event["data"]
    assert moment(data.pop("delivered_at")) == delivered_at
    assert data == {
        "version": delivered["version"],
        "order_id": order["id"],
        "number": order["number"],
        "quote_id": None,
        "customer_id": order["customer_id"],
        "status": "delivered",
    }
    assert last.json()["order_status"] == "shipped"

    twice = await erp.client.post(deliver, headers=erp.headers("warehouse"))
    assert twice.status_code == 409
    assert twice.json()["allowed"] == []
    assert await erp.get_order(order["id"]) == delivered
    assert len(await erp.events("erp.order.delivered.v1")) == 1
    unknown = await erp.client.post(f"/orders/{uuid.uuid4()}/deliver", headers=erp.headers("admin"))
    assert unknown.status_code == 404


async def test_a_retried_shipment_with_its_idempotency_key_ships_once(erp: Erp) -> None:
    order = await stocked_order(erp, widgets=4, chairs=0)
    key = {"Idempotency-Key": f"ship-{uuid.uuid4()}"}
    first = await ship(erp, order, [("WIDGET", 2)], carrier="UPS", headers=key)
    retried = await ship(erp, order, [("WIDGET", 2)], carrier="UPS", headers=key)
    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.json() == first.json()
    assert retried.headers.get("idempotent-replayed") == "true"
    assert await level(erp, "WIDGET") == (8, 2)
    assert len(await erp.events("erp.order.shipped.v1")) == 1
    assert len(await shipment_movements(erp, order["id"])) == 1
    other_body = await ship(erp, order, [("WIDGET", 1)], carrier="UPS", headers=key)
    assert other_body.status_code == 422
    assert (await erp.get_order(order["id"]))["lines"][0]["quantity_shipped"] == 2


async def test_concurrent_shipments_of_the_same_units_ship_them_once(erp: Erp) -> None:
    order = await stocked_order(erp, widgets=3, chairs=0)
    responses = await asyncio.gather(*(ship(erp, order, [("WIDGET", 3)]) for _ in range(4)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201, 409, 409, 409], [r.text for r in responses]
    assert await level(erp, "WIDGET") == (7, 0)
    assert (await erp.get_order(order["id"]))["status"] == "shipped"
    assert len(await erp.events("erp.order.shipped.v1")) == 1
    assert (await erp.stock_check())["drift"] == []


async def test_shipments_are_listed_filtered_and_paged(erp: Erp) -> None:
    order = await stocked_order(erp, widgets=4, chairs=2)
    other = await erp.order(await erp.customer(), [("CHAIR", 1)])
    made = []
    for target, sku, carrier in (
        (order, "WIDGET", "DHL"),
        (order, "CHAIR", "UPS"),
        (other, "CHAIR", "DHL"),
        (order, "WIDGET", None),
    ):
        response = await ship(erp, target, [(sku, 1)], carrier=carrier)
        assert response.status_code == 201, response.text
        made.append(response.json())
    headers = erp.headers("support")

    listed = (await erp.client.get("/shipments", headers=headers)).json()
    assert [s["id"] for s in listed["items"]] == [s["id"] for s in reversed(made)]
    assert listed["next_cursor"] is None

    pages: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1, "sort": "created_at", "order_id": order["id"]}
        if cursor:
            params["cursor"] = cursor
        page = (await erp.client.get("/shipments", params=params, headers=headers)).json()
        pages += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [made[0]["id"], made[1]["id"], made[3]["id"]]

    dhl = (await erp.client.get("/shipments?carrier=DHL", headers=headers)).json()["items"]
    assert [s["id"] for s in dhl] == [made[2]["id"], made[0]["id"]]
    window = await erp.client.get(
        "/shipments",
        params={"created_from": made[1]["created_at"], "created_to": made[3]["created_at"]},
        headers=headers,
    )
    assert [s["id"] for s in window.json()["items"]] == [made[2]["id"], made[1]["id"]]

    of_order = (await erp.client.get(f"/orders/{other['id']}/shipments", headers=headers)).json()
    assert [s["id"] for s in of_order["items"]] == [made[2]["id"]]
    assert of_order["items"][0]["lines"][0]["sku"] == "CHAIR"
    unknown_order = await erp.client.get(f"/orders/{uuid.uuid4()}/shipments", headers=headers)
    assert unknown_order.status_code == 404

    one = await erp.client.get(f"/shipments/{made[1]['id']}", headers=headers)
    assert one.status_code == 200
    assert one.headers["etag"] == '"1"'
    expected = {k: v for k, v in made[1].items() if k not in ("order_status", "order_version")}
    assert one.json() == expected
    assert (await erp.client.get(f"/shipments/{uuid.uuid4()}", headers=headers)).status_code == 404
    for query in ("sort=carrier", "limit=201", "cursor=bogus", f"order_id={order['number']}"):
        response = await erp.client.get(f"/shipments?{query}", headers=headers)
        assert response.status_code == 422, query


@pytest.mark.parametrize(
    ("role", "read", "create", "deliver"),
    [
        ("admin", 200, 201, 200),
        ("warehouse", 200, 201, 200),
        ("support", 200, 403, 403),
        ("sales", 403, 403, 403),
        ("finance", 403, 403, 403),
        ("hr", 403, 403, 403),
    ],
)
async def test_roles_on_shipments(
    erp: Erp, role: str, read: int, create: int, deliver: int
) -> None:
    order = await stocked_order(erp, widgets=2, chairs=0)
    headers = erp.headers(role)
    created = await ship(erp, order, [("WIDGET", 2)], role=role)
    assert created.status_code == create, created.text
    if create != 201:
        assert (await ship(erp, order, [("WIDGET", 2)])).status_code == 201
    [shipment] = (await erp.client.get("/shipments", headers=erp.headers("admin"))).json()["items"]
    for path in ("/shipments", f"/shipments/{shipment['id']}", f"/orders/{order['id']}/shipments"):
        assert (await erp.client.get(path, headers=headers)).status_code == read, path
    delivered = await erp.client.post(f"/orders/{order['id']}/deliver", headers=headers)
    assert delivered.status_code == deliver, delivered.text
    anonymous = await erp.client.post(
        f"/orders/{order['id']}/shipments", json={"lines": [{"sku": "WIDGET", "quantity": 1}]}
    )
    assert anonymous.status_code == 401


async def test_goods_cannot_have_left_before_the_order_had_them(erp: Erp) -> None:
    """A backordered order has its goods from the moment it is confirmed: a shipment
    recorded after the fact may not say they left earlier (its cost of goods and its
    invoice would be dated before the stock arrived). An order confirmed when it was
    placed had them from the start."""
    await erp.warehouse("MAIN")
    await erp.product("WIDGET", "100.00", tax_rate="19")
    await erp.receive("WIDGET", 1)
    customer_id = await erp.customer()
    waiting = await erp.order(customer_id, [("WIDGET", 3)])
    assert waiting["status"] == "backordered"
    assert waiting["confirmed_at"] is None
    await erp.receive("WIDGET", 2)
    order = await erp.get_order(waiting["id"])
    assert order["status"] == "confirmed"
    assert moment(order["confirmed_at"]) > moment(order["created_at"])

    early = await ship(erp, order, [("WIDGET", 3)], shipped_at=order["created_at"])
    assert early.status_code == 422, early.text
    assert early.headers["content-type"] == "application/problem+json"
    assert early.json()["errors"][0]["field"] == "shipped_at"
    # Nothing of the refused shipment was written.
    assert await erp.get_order(order["id"]) == order
    assert await erp.invoice_shipments() == []

    shipped = await ship(erp, order, [("WIDGET", 3)], shipped_at=order["confirmed_at"])
    assert shipped.status_code == 201, shipped.text

    # Confirmed as it was placed: the same moment as its creation, and shippable from it.
    await erp.receive("WIDGET", 1)
    at_once = await erp.order(customer_id, [("WIDGET", 1)])
    assert at_once["status"] == "confirmed"
    assert at_once["confirmed_at"] == at_once["created_at"]
    assert (await erp.get_order(at_once["id"]))["confirmed_at"] == at_once["created_at"]
    first = await ship(erp, at_once, [("WIDGET", 1)], shipped_at=at_once["created_at"])
    assert first.status_code == 201, first.text
