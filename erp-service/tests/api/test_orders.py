"""Sales orders through `POST /orders`: pricing, numbering, reservation, credit check,
validation, listing, idempotency and who may do what."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest

from shared_schemas.events.crm.customers import CustomerArchived
from tests.support.erp import Erp

pytestmark = pytest.mark.api


async def stocked(erp: Erp, **units: int) -> dict[str, dict[str, Any]]:
    """A default warehouse and products WIDGET (250.00) and CHAIR (19.99), received as
    given."""
    await erp.warehouse("MAIN")
    products = {
        "WIDGET": await erp.product("WIDGET", "250.00", tax_rate="19"),
        "CHAIR": await erp.product("CHAIR", "19.99", tax_rate="19"),
    }
    for sku, quantity in units.items():
        if quantity:
            await erp.receive(sku, quantity)
    return products


async def test_an_order_is_numbered_priced_reserved_and_confirmed(erp: Erp) -> None:
    products = await stocked(erp, WIDGET=10, CHAIR=10)
    customer_id = await erp.customer()
    response = await erp.client.post(
        "/orders",
        json={
            "customer_id": str(customer_id),
            "notes": "Back entrance",
            "lines": [
                {"sku": "WIDGET", "quantity": 2},
                {"sku": "CHAIR", "quantity": 3, "discount_pct": "10", "tax_rate": "19"},
            ],
        },
        headers=erp.headers("sales"),
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert response.headers["location"] == f"/orders/{order['id']}"
    assert response.headers["etag"] == '"2"'
    assert re.fullmatch(r"SO-\d{4}-000001", order["number"])
    assert order["status"] == "confirmed"
    assert order["confirmed_at"] is not None
    assert order["currency"] == "EUR"
    assert order["notes"] == "Back entrance"
    assert order["created_by"] == "user-sales-none"
    assert (order["subtotal"], order["discount_total"]) == ("559.97", "6.00")
    assert (order["tax_total"], order["total"]) == ("105.25", "659.22")
    assert order["invoiced_total"] == "0.00"
    assert order["customer_snapshot"]["id"] == str(customer_id)
    assert order["customer_snapshot"]["name"] == "Acme GmbH"
    widget, chair = order["lines"]
    assert widget == {
        "id": widget["id"],
        "position": 1,
        "product_id": products["WIDGET"]["id"],
        "sku": "WIDGET",
        "name": "Product WIDGET",
        "quantity": 2,
        "unit_price": "250.00",
        "discount_pct": "0",
        "tax_rate": "19",
        "line_net": "500.00",
        "line_tax": "95.00",
        "quantity_reserved": 2,
        "quantity_shipped": 0,
    }
    assert (chair["unit_price"], chair["line_net"], chair["line_tax"]) == (
        "19.99",
        "53.97",
        "10.25",
    )
    assert chair["quantity_reserved"] == 3
    assert (await erp.get_order(order["id"])) == order
    level = await erp.stock_level("WIDGET")
    assert level is not None
    assert (level["on_hand"], level["reserved"], level["available"]) == (10, 2, 8)

    [created] = await erp.events("erp.order.created.v1")
    assert created["subject"] == order["id"]
    assert created["actor"] == "user-sales-none"
    assert created["data"] == {
        "version": 1,
        "order_id": order["id"],
        "number": order["number"],
        "quote_id": None,
        "customer_id": str(customer_id),
        "status": "pending",
        "currency": "EUR",
        "subtotal": "559.97",
        "discount_total": "6.00",
        "tax_total": "105.25",
        "total": "659.22",
        "lines": [
            {
                "sku": "WIDGET",
                "quantity": 2,
                "unit_price": "250.00",
                "discount_pct": "0",
                "tax_rate": "19",
                "line_net": "500.00",
                "line_tax": "95.00",
                "product_id": products["WIDGET"]["id"],
                "name": "Product WIDGET",
            },
            {
                "sku": "CHAIR",
                "quantity": 3,
                "unit_price": "19.99",
                "discount_pct": "10",
                "tax_rate": "19",
                "line_net": "53.97",
                "line_tax": "10.25",
                "product_id": products["CHAIR"]["id"],
                "name": "Product CHAIR",
            },
        ],
    }
    [confirmed] = await erp.events("erp.order.confirmed.v1")
    assert confirmed["data"] == {
        "version": 2,
        "order_id": order["id"],
        "number": order["number"],
        "quote_id": None,
        "customer_id": str(customer_id),
        "status": "confirmed",
        "previous_status": "pending",
    }
    second = await erp.order(customer_id, [("CHAIR", 1)])
    assert second["number"] == order["number"][:-6] + "000002"


async def test_an_order_short_of_stock_is_backordered_keeping_what_was_reserved(
    erp: Erp,
) -> None:
    products = await stocked(erp, WIDGET=3, CHAIR=5)
    customer_id = await erp.customer()
    order = await erp.order(customer_id, [("WIDGET", 5), ("CHAIR", 2)])
    assert order["status"] == "backordered"
    assert order["confirmed_at"] is None
    assert [line["quantity_reserved"] for line in order["lines"]] == [3, 2]
    level = await erp.stock_level("WIDGET")
    assert level is not None
    assert (level["reserved"], level["available"]) == (3, 0)
    [backordered] = await erp.events("erp.order.backordered.v1")
    assert backordered["data"] == {
        "version": 2,
        "order_id": order["id"],
        "number": order["number"],
        "quote_id": None,
        "customer_id": str(customer_id),
        "status": "backordered",
        "previous_status": "pending",
        "shortages": [
            {
                "sku": "WIDGET",
                "product_id": products["WIDGET"]["id"],
                "quantity": 5,
                "quantity_missing": 2,
            }
        ],
    }
    assert await erp.events("erp.order.confirmed.v1") == []


async def test_over_the_credit_limit_an_order_is_held_without_reserving(erp: Erp) -> None:
    await stocked(erp, WIDGET=20)
    customer_id = await erp.customer(credit_limit="1000.00")
    first = await erp.order(customer_id, [("WIDGET", 2)])  # 595.00
    assert first["status"] == "confirmed"
    held = await erp.order(customer_id, [("WIDGET", 2)])
    assert held["status"] == "on_hold"
    assert held["hold_reason"] == "credit_limit_exceeded"
    assert [line["quantity_reserved"] for line in held["lines"]] == [0]
    level = await erp.stock_level("WIDGET")
    assert level is not None
    assert level["reserved"] == 2
    [on_hold] = await erp.events("erp.order.on_hold.v1")
    assert on_hold["data"] == {
        "version": 2,
        "order_id": held["id"],
        "number": held["number"],
        "quote_id": None,
        "customer_id": str(customer_id),
        "status": "on_hold",
        "previous_status": "pending",
        "reason": "credit_limit_exceeded",
        "currency": "EUR",
        "total": "595.00",
        "credit_limit": "1000.00",
        "credit_exposure": "1190.00",
    }
    # A held order is not owed yet: a small order still fits beside the first one.
    small = await erp.client.post(
        "/orders",
        json={
            "customer_id": str(customer_id),
            "lines": [{"sku": "WIDGET", "quantity": 1, "unit_price": "100.00"}],
        },
        headers=erp.headers("sales"),
    )
    assert small.json()["status"] == "confirmed"
    # Exactly at the limit is still within it: 595.00 + 119.00 + 286.00 = 1000.00.
    exact = await erp.order(
        customer_id, [{"sku": "WIDGET", "quantity": 1, "unit_price": "240.34", "tax_rate": "19"}]
    )
    assert exact["total"] == "286.00"
    assert exact["status"] == "confirmed"
    over = await erp.order(
        customer_id, [{"sku": "WIDGET", "quantity": 1, "unit_price": "0.01", "tax_rate": "0"}]
    )
    assert over["status"] == "on_hold"


async def test_a_customer_without_a_credit_limit_has_none(erp: Erp) -> None:
    await stocked(erp, WIDGET=1000)
    customer_id = await erp.customer(credit_limit=None)
    big = await erp.order(customer_id, [("WIDGET", 1000)])
    assert big["total"] == "297500.00"
    assert big["status"] == "confirmed"


async def test_bad_orders_are_refused_naming_what_is_wrong_and_change_nothing(erp: Erp) -> None:
    products = await stocked(erp, WIDGET=5)
    customer_id = await erp.customer()
    headers = erp.headers("sales")

    async def refused(body: dict[str, Any], status: int = 422) -> dict[str, Any]:
        response = await erp.client.post("/orders", json=body, headers=headers)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        return dict(response.json())

    deactivated = await erp.client.patch(
        f"/products/{products['CHAIR']['id']}",
        json={"active": False},
        headers=erp.headers("warehouse"),
    )
    assert deactivated.status_code == 200
    problem = await refused(
        {
            "customer_id": str(customer_id),
            "lines": [
                {"sku": "WIDGET", "quantity": 1},
                {"sku": "NOPE", "quantity": 1},
                {"sku": "CHAIR", "quantity": 1},
            ],
        }
    )
    assert problem["errors"] == [
        {"field": "lines.1.sku", "message": "no product 'NOPE'"},
        {"field": "lines.2.sku", "message": "CHAIR is not active"},
    ]
    unknown = await refused(
        {"customer_id": str(uuid.uuid4()), "lines": [{"sku": "WIDGET", "quantity": 1}]}
    )
    assert unknown["errors"] == [{"field": "customer_id", "message": "no such active customer"}]
    foreign = await refused(
        {
            "customer_id": str(customer_id),
            "currency": "USD",
            "lines": [{"sku": "WIDGET", "quantity": 1}],
        }
    )
    assert foreign["errors"] == [{"field": "currency", "message": "must be EUR"}]
    for line in (
        {"sku": "WIDGET", "quantity": 0},
        {"sku": "WIDGET", "quantity": 1, "unit_price": "1.001"},
        {"sku": "WIDGET", "quantity": 1, "discount_pct": "101"},
        {"sku": "WIDGET", "quantity": 1, "status": "confirmed"},
    ):
        await refused({"customer_id": str(customer_id), "lines": [line]})
    await refused({"customer_id": str(customer_id), "lines": []})
    archived_id = await erp.customer(name="Gone Ltd")
    await erp.publish(CustomerArchived(version=2, customer_id=archived_id))
    archived = await refused(
        {"customer_id": str(archived_id), "lines": [{"sku": "WIDGET", "quantity": 1}]}
    )
    assert archived["errors"] == [{"field": "customer_id", "message": "no such active customer"}]

    assert await erp.events("erp.order.created.v1") == []
    listed = await erp.client.get("/orders", headers=headers)
    assert listed.json()["items"] == []
    level = await erp.stock_level("WIDGET")
    assert level is not None
    assert level["reserved"] == 0


async def test_without_a_default_warehouse_an_order_is_a_conflict(erp: Erp) -> None:
    await erp.product("WIDGET")
    customer_id = await erp.customer()
    response = await erp.client.post(
        "/orders",
        json={"customer_id": str(customer_id), "lines": [{"sku": "WIDGET", "quantity": 1}]},
        headers=erp.headers("sales"),
    )
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    listed = await erp.client.get("/orders", headers=erp.headers("admin"))
    assert listed.json()["items"] == []
    assert await erp.events("erp.order.created.v1") == []


async def test_orders_are_listed_filtered_sorted_and_paged(erp: Erp) -> None:
    await stocked(erp, WIDGET=3, CHAIR=10)
    acme = await erp.customer()
    other = await erp.customer(name="Other AG", credit_limit="1.00")
    first = await erp.order(acme, [("WIDGET", 2)])  # confirmed
    second = await erp.order(acme, [("CHAIR", 1), ("WIDGET", 2)])  # backordered
    third = await erp.order(other, [("CHAIR", 1)])  # on_hold
    headers = erp.headers("support")

    async def numbers(query: str) -> list[str]:
        response = await erp.client.get(f"/orders{query}", headers=headers)
        assert response.status_code == 200, response.text
        return [order["number"] for order in response.json()["items"]]

    everything = await numbers("?sort=number")
    assert everything == [first["number"], second["number"], third["number"]]
    assert await numbers("") == everything[::-1]
    assert await numbers("?sort=-number") == everything[::-1]
    assert await numbers("?status=confirmed&status=on_hold&sort=number") == [
        first["number"],
        third["number"],
    ]
    assert await numbers("?status=backordered") == [second["number"]]
    assert await numbers(f"?customer_id={acme}&sort=number") == everything[:2]
    assert await numbers("?sku=CHAIR&sort=number") == [second["number"], third["number"]]
    assert await numbers("?sku=NOPE") == []
    assert await numbers(f"?q={first['number']}") == [first["number"]]
    created = second["created_at"].replace("+00:00", "Z")
    assert await numbers(f"?created_from={created}&sort=number") == everything[1:]
    assert await numbers(f"?created_to={created}") == everything[:1]

    page = (await erp.client.get("/orders?limit=2&sort=number", headers=headers)).json()
    assert [o["number"] for o in page["items"]] == everything[:2]
    assert page["items"][1]["lines"][0]["sku"] == "CHAIR"
    rest = await erp.client.get(
        f"/orders?limit=2&sort=number&cursor={page['next_cursor']}", headers=headers
    )
    assert [o["number"] for o in rest.json()["items"]] == everything[2:]
    assert rest.json()["next_cursor"] is None

    for bad in ("?status=lost", "?sort=total", "?limit=201", "?cursor=nonsense", "?customer_id=1"):
        response = await erp.client.get(f"/orders{bad}", headers=headers)
        assert response.status_code == 422, bad
    missing = await erp.client.get(f"/orders/{uuid.uuid4()}", headers=headers)
    assert missing.status_code == 404


async def test_an_idempotency_key_makes_a_retried_order_one_order(erp: Erp) -> None:
    await stocked(erp, WIDGET=5)
    customer_id = await erp.customer()
    body = {"customer_id": str(customer_id), "lines": [{"sku": "WIDGET", "quantity": 1}]}
    headers = {**erp.headers("sales"), "Idempotency-Key": "order-7f3a"}
    first = await erp.client.post("/orders", json=body, headers=headers)
    again = await erp.client.post("/orders", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    changed = await erp.client.post(
        "/orders", json={**body, "notes": "something else"}, headers=headers
    )
    assert changed.status_code == 422
    assert len(await erp.events("erp.order.created.v1")) == 1
    level = await erp.stock_level("WIDGET")
    assert level is not None
    assert level["reserved"] == 1


@pytest.mark.parametrize(
    ("role", "read", "create"),
    [
        ("admin", 200, 201),
        ("sales", 200, 201),
        ("sales_manager", 200, 201),
        ("support", 200, 403),
        ("warehouse", 200, 403),
        ("finance", 200, 403),
        ("hr", 403, 403),
    ],
)
async def test_roles_on_orders(erp: Erp, role: str, read: int, create: int) -> None:
    await stocked(erp, WIDGET=5)
    customer_id = await erp.customer()
    existing = await erp.order(customer_id, [("WIDGET", 1)], role="admin")
    headers = erp.headers(role)
    assert (await erp.client.get("/orders", headers=headers)).status_code == read
    one = await erp.client.get(f"/orders/{existing['id']}", headers=headers)
    assert one.status_code == read
    body = {"customer_id": str(customer_id), "lines": [{"sku": "WIDGET", "quantity": 1}]}
    assert (await erp.client.post("/orders", json=body, headers=headers)).status_code == create
    assert (await erp.client.get("/orders")).status_code == 401


async def test_concurrent_orders_of_one_customer_stay_within_the_credit_limit(erp: Erp) -> None:
    await stocked(erp, WIDGET=100)
    customer_id = await erp.customer(credit_limit="1000.00")
    body = {
        "customer_id": str(customer_id),
        "lines": [{"sku": "WIDGET", "quantity": 1, "unit_price": "100.00", "tax_rate": "0"}],
    }
    headers = erp.headers("sales")
    responses = await asyncio.gather(
        *(erp.client.post("/orders", json=body, headers=headers) for _ in range(15))
    )
    assert {response.status_code for response in responses} == {201}
    statuses = sorted(response.json()["status"] for response in responses)
    assert statuses == ["confirmed"] * 10 + ["on_hold"] * 5
    level = await erp.stock_level("WIDGET")
    assert level is not None
    assert level["reserved"] == 10
