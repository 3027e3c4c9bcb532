"""Products and warehouses through the HTTP API; products announced to CRM by events."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.support.erp import Erp
from tests.support.races import holding, require_postgresql, waiting

pytestmark = pytest.mark.api


async def test_a_product_is_created_published_repriced_and_republished(erp: Erp) -> None:
    product = await erp.product("WIDGET-1", "250.00", cost="140.00", reorder_point=5)
    assert product["currency"] == "EUR"
    assert product["unit_price"] == "250.00"
    [created] = await erp.events("erp.product.created.v1")
    assert created["subject"] == product["id"]
    assert created["data"] == {
        "version": 1,
        "product_id": product["id"],
        "sku": "WIDGET-1",
        "name": "Product WIDGET-1",
        "unit_price": "250.00",
        "currency": "EUR",
        "tax_rate": "19",
        "cost": "140.00",
        "reorder_point": 5,
        "active": True,
    }
    headers = {**erp.headers("warehouse"), "If-Match": '"1"'}
    repriced = await erp.client.patch(
        f"/products/{product['id']}", json={"unit_price": "239.90"}, headers=headers
    )
    assert repriced.status_code == 200
    assert repriced.headers["etag"] == '"2"'
    [updated] = await erp.events("erp.product.updated.v1")
    assert updated["data"]["unit_price"] == "239.90"
    assert updated["data"]["version"] == 2
    stale = await erp.client.patch(
        f"/products/{product['id']}", json={"active": False}, headers=headers
    )
    assert stale.status_code == 412
    kept = await erp.client.get(f"/products/{product['id']}", headers=headers)
    assert (kept.json()["active"], kept.json()["unit_price"]) == (True, "239.90")
    assert kept.headers["etag"] == '"2"'
    assert len(await erp.events("erp.product.updated.v1")) == 1


async def rename_while_a_cost_change_waits_for_the_stock(
    erp: Erp, product: dict[str, Any], cost_change_headers: dict[str, str]
) -> httpx.Response:
    """A cost change reads the product, then waits for the product's stock levels (a cost
    change revalues the units on hand, so it locks them first); a rename lands meanwhile.
    The cost change's answer."""
    url = f"/products/{product['id']}"
    headers = erp.headers("warehouse")
    async with holding(
        erp.engine, "SELECT 1 FROM stock_levels WHERE product_id = :id FOR UPDATE", id=product["id"]
    ):
        recost = asyncio.create_task(
            erp.client.patch(url, json={"cost": "70.00"}, headers=cost_change_headers)
        )
        await waiting(erp.engine, 1)
        renamed = await erp.client.patch(url, json={"name": "Widget One"}, headers=headers)
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["version"] == 2
    return await recost


async def cost_changes(erp: Erp) -> list[str]:
    """The amounts of the revaluations cost changes posted."""
    response = await erp.client.get(
        "/ledger/journal-entries",
        params={"source_type": "cost_change"},
        headers=erp.headers("finance"),
    )
    assert response.status_code == 200, response.text
    return [
        line["debit"]
        for entry in response.json()["items"]
        for line in entry["lines"]
        if line["debit"] != "0.00"
    ]


async def test_a_cost_change_whose_version_changed_while_it_waited_for_the_stock_is_412(
    erp: Erp,
) -> None:
    """Judged on the version it finds once it has the stock: the If-Match is stale now, so
    the rename, the cost and the books stay as the rename left them."""
    require_postgresql(erp.engine)
    await erp.warehouse("BER")
    product = await erp.product("WIDGET-1", cost="60.00")
    await erp.receive("WIDGET-1", 5)

    refused = await rename_while_a_cost_change_waits_for_the_stock(
        erp, product, {**erp.headers("warehouse"), "If-Match": '"1"'}
    )

    assert refused.status_code == 412, refused.text
    assert refused.json()["current_version"] == 2
    kept = await erp.client.get(f"/products/{product['id']}", headers=erp.headers("warehouse"))
    assert (kept.json()["name"], kept.json()["cost"], kept.json()["version"]) == (
        "Widget One",
        "60.00",
        2,
    )
    updates = await erp.events("erp.product.updated.v1")
    assert [event["data"]["name"] for event in updates] == ["Widget One"]
    assert await cost_changes(erp) == []


async def test_a_cost_change_without_if_match_applies_on_top_of_a_rename_that_landed_meanwhile(
    erp: Erp,
) -> None:
    require_postgresql(erp.engine)
    await erp.warehouse("BER")
    product = await erp.product("WIDGET-1", cost="60.00")
    await erp.receive("WIDGET-1", 5)

    recosted = await rename_while_a_cost_change_waits_for_the_stock(
        erp, product, erp.headers("warehouse")
    )

    assert recosted.status_code == 200, recosted.text
    now = recosted.json()
    assert (now["name"], now["cost"], now["version"]) == ("Widget One", "70.00", 3)
    updates = await erp.events("erp.product.updated.v1")
    assert [(e["data"]["name"], e["data"]["version"]) for e in updates] == [
        ("Widget One", 2),
        ("Widget One", 3),
    ]
    assert await cost_changes(erp) == ["50.00"]  # 5 units, 10.00 more each


async def test_sku_is_unique_and_prices_are_in_the_company_currency(erp: Erp) -> None:
    first = await erp.product("SKU-1")
    again = await erp.client.post(
        "/products",
        json={"sku": "SKU-1", "name": "x", "unit_price": "1.00", "tax_rate": "0", "cost": "0.50"},
        headers=erp.headers("warehouse"),
    )
    assert again.status_code == 409
    assert again.json()["existing_id"] == first["id"]
    foreign = await erp.client.post(
        "/products",
        json={
            "sku": "SKU-2",
            "name": "x",
            "unit_price": "1.00",
            "currency": "USD",
            "tax_rate": "0",
            "cost": "0.50",
        },
        headers=erp.headers("warehouse"),
    )
    assert foreign.status_code == 422
    assert len(await erp.events("erp.product.created.v1")) == 1


async def test_amounts_and_rates_given_as_fractional_json_numbers_are_refused(erp: Erp) -> None:
    # Money and rates are decimal strings: a float may have lost digits on its way here.
    body = {"sku": "FLOAT-1", "name": "x", "unit_price": "1.00", "tax_rate": "19", "cost": "0.50"}
    for field, number in (("unit_price", 19.99), ("cost", 5.0), ("tax_rate", 19.5)):
        refused = await erp.client.post(
            "/products", json=body | {field: number}, headers=erp.headers("warehouse")
        )
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        [error] = refused.json()["errors"]
        assert error["field"] == field
        assert "decimal string" in error["message"]
    listed = await erp.client.get("/products", headers=erp.headers("warehouse"))
    assert listed.json()["items"] == []
    assert await erp.events("erp.product.created.v1") == []
    whole = await erp.client.post(
        "/products", json=body | {"unit_price": 20}, headers=erp.headers("warehouse")
    )
    assert whole.status_code == 201
    assert whole.json()["unit_price"] == "20.00"


async def test_prices_and_costs_above_the_largest_amount_are_refused_and_change_nothing(
    erp: Erp,
) -> None:
    # The largest amount any money input takes; more would not fit the stored column and
    # be rounded there (SQLite) while the event carries the exact value.
    largest, beyond = "999999999999.99", "123456789012345678.91"
    headers = erp.headers("warehouse")
    body = {"sku": "BIG-1", "name": "x", "unit_price": "1.00", "tax_rate": "19", "cost": "0.50"}
    for field in ("unit_price", "cost"):
        for amount in (beyond, "1000000000000.00"):
            refused = await erp.client.post(
                "/products", json=body | {field: amount}, headers=headers
            )
            assert refused.status_code == 422, (field, amount, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            assert [error["field"] for error in refused.json()["errors"]] == [field]
    listed = await erp.client.get("/products", headers=headers)
    assert listed.json()["items"] == []
    assert await erp.events("erp.product.created.v1") == []

    product = await erp.product("BIG-1", largest, cost=largest)
    assert (product["unit_price"], product["cost"]) == (largest, largest)
    for field in ("unit_price", "cost"):
        refused = await erp.client.patch(
            f"/products/{product['id']}", json={field: beyond}, headers=headers
        )
        assert refused.status_code == 422, (field, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert [error["field"] for error in refused.json()["errors"]] == [field]
    unchanged = await erp.client.get(f"/products/{product['id']}", headers=headers)
    assert unchanged.json() == product
    assert await erp.events("erp.product.updated.v1") == []


async def test_products_are_listed_searched_and_filtered(erp: Erp) -> None:
    for sku in ("B-2", "A-1", "C-3"):
        await erp.product(sku)
    headers = erp.headers("sales")
    listed = (await erp.client.get("/products?sort=sku", headers=headers)).json()
    assert [p["sku"] for p in listed["items"]] == ["A-1", "B-2", "C-3"]
    by_sku = (await erp.client.get("/products?sku=C-3&sku=A-1&sort=sku", headers=headers)).json()
    assert [p["sku"] for p in by_sku["items"]] == ["A-1", "C-3"]
    searched = (await erp.client.get("/products?q=product%20b", headers=headers)).json()
    assert [p["sku"] for p in searched["items"]] == ["B-2"]


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("admin", 200, 201),
        ("warehouse", 200, 201),
        ("sales", 200, 403),
        ("support", 200, 403),
        ("finance", 200, 403),
        ("hr", 403, 403),
    ],
)
async def test_roles_on_products(erp: Erp, role: str, read: int, write: int) -> None:
    headers = erp.headers(role)
    assert (await erp.client.get("/products", headers=headers)).status_code == read
    body = {"sku": f"R-{role}", "name": "x", "unit_price": "1.00", "tax_rate": "0", "cost": "1.00"}
    assert (await erp.client.post("/products", json=body, headers=headers)).status_code == write
    listed = await erp.client.get("/products", headers=erp.headers("admin"))
    assert [p["sku"] for p in listed.json()["items"]] == ([body["sku"]] if write == 201 else [])
    assert len(await erp.events("erp.product.created.v1")) == (1 if write == 201 else 0)


async def test_the_first_warehouse_is_the_default_and_there_is_only_one(erp: Erp) -> None:
    first = await erp.warehouse("BER")
    assert first["is_default"] is True
    second = await erp.warehouse("HAM")
    assert second["is_default"] is False
    switched = await erp.client.post(
        f"/warehouses/{second['id']}/make-default", headers=erp.headers("warehouse")
    )
    assert switched.json()["is_default"] is True
    listed = (await erp.client.get("/warehouses", headers=erp.headers("sales"))).json()
    assert [(w["code"], w["is_default"]) for w in listed["items"]] == [
        ("BER", False),
        ("HAM", True),
    ]
    assert listed["next_cursor"] is None
    deactivate = await erp.client.patch(
        f"/warehouses/{second['id']}", json={"active": False}, headers=erp.headers("warehouse")
    )
    assert deactivate.status_code == 409, deactivate.text
    still = await erp.client.get(f"/warehouses/{second['id']}", headers=erp.headers("warehouse"))
    assert (still.json()["active"], still.json()["is_default"]) == (True, True)
    third = await erp.warehouse("MUC", default=True)
    only_default = await erp.client.get(
        "/warehouses", params={"is_default": "true"}, headers=erp.headers("admin")
    )
    assert [w["code"] for w in only_default.json()["items"]] == [third["code"]]
    first_page = await erp.client.get(
        "/warehouses", params={"limit": 2, "sort": "-code"}, headers=erp.headers("warehouse")
    )
    assert [w["code"] for w in first_page.json()["items"]] == ["MUC", "HAM"]
    rest = await erp.client.get(
        "/warehouses",
        params={"limit": 2, "sort": "-code", "cursor": first_page.json()["next_cursor"]},
        headers=erp.headers("warehouse"),
    )
    assert [w["code"] for w in rest.json()["items"]] == ["BER"]
    assert rest.json()["next_cursor"] is None
    assert (await erp.client.get("/warehouses", headers=erp.headers("finance"))).status_code == 403


async def deactivate(erp: Erp, warehouse: dict[str, Any]) -> Any:
    return await erp.client.patch(
        f"/warehouses/{warehouse['id']}", json={"active": False}, headers=erp.headers("warehouse")
    )


async def assert_unchanged(erp: Erp, warehouse: dict[str, Any]) -> None:
    now = await erp.client.get(f"/warehouses/{warehouse['id']}", headers=erp.headers("warehouse"))
    assert (now.json()["active"], now.json()["version"]) == (True, warehouse["version"])


async def test_a_warehouse_changed_meanwhile_is_not_overwritten(erp: Erp) -> None:
    warehouse = await erp.warehouse("BER")
    url = f"/warehouses/{warehouse['id']}"
    headers = erp.headers("warehouse")
    renamed = await erp.client.patch(
        url, json={"name": "Berlin Mitte"}, headers={**headers, "If-Match": '"1"'}
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.headers["etag"]) == ("Berlin Mitte", '"2"')
    events = await erp.events()

    stale = await erp.client.patch(
        url, json={"name": "Berlin Nord"}, headers={**headers, "If-Match": '"1"'}
    )

    assert stale.status_code == 412, stale.text
    assert stale.json()["current_version"] == 2
    kept = await erp.client.get(url, headers=headers)
    assert (kept.json(), kept.headers["etag"]) == (renamed.json(), '"2"')
    assert await erp.events() == events


async def test_a_warehouse_holding_stock_is_not_deactivated_until_it_is_emptied(
    erp: Erp,
) -> None:
    main = await erp.warehouse("MAIN")
    side = await erp.warehouse("SIDE")
    await erp.product("LAMP")
    await erp.receive("LAMP", 5, warehouse=side)

    refused = await deactivate(erp, side)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["units_on_hand"], problem["units_reserved"], problem["open_orders"]) == (
        5,
        0,
        0,
    )
    assert "5 units on hand" in problem["detail"]
    await assert_unchanged(erp, side)

    await erp.post(
        "/stock/movements",
        {
            "kind": "transfer",
            "sku": "LAMP",
            "from_warehouse_id": side["id"],
            "to_warehouse_id": main["id"],
            "quantity": 5,
        },
        role="warehouse",
    )
    emptied = await deactivate(erp, side)
    assert emptied.status_code == 200, emptied.text
    assert emptied.json()["active"] is False
    # Deactivating it again changes nothing and is no conflict.
    again = await deactivate(erp, side)
    assert again.status_code == 200, again.text
    spec = (await erp.client.get("/openapi.json")).json()
    assert "409" in spec["paths"]["/warehouses/{warehouse_id}"]["patch"]["responses"]


async def test_a_warehouse_orders_wait_on_is_not_deactivated_until_they_are_settled(
    erp: Erp,
) -> None:
    first = await erp.warehouse("FIRST")
    await erp.product("LAMP")
    await erp.product("DESK")
    await erp.receive("LAMP", 2, warehouse=first)
    customer = await erp.customer()
    # Both orders stay with FIRST after another warehouse becomes the default: one has
    # its units reserved there, the other waits there for stock that never came.
    reserved = await erp.order(customer, [("LAMP", 2)])
    assert reserved["status"] == "confirmed"
    waiting = await erp.order(customer, [("DESK", 3)])
    assert waiting["status"] == "backordered"
    second = await erp.warehouse("SECOND", default=True)
    assert second["is_default"] is True
    first = (
        await erp.client.get(f"/warehouses/{first['id']}", headers=erp.headers("warehouse"))
    ).json()

    refused = await deactivate(erp, first)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["units_on_hand"], problem["units_reserved"], problem["open_orders"]) == (
        2,
        2,
        2,
    )
    assert "2 units on hand (2 of them reserved)" in problem["detail"]
    assert "2 open orders waiting on it" in problem["detail"]
    await assert_unchanged(erp, first)

    await erp.post(f"/orders/{reserved['id']}/cancel", role="admin")
    await erp.post(
        "/stock/movements",
        {
            "kind": "adjustment",
            "sku": "LAMP",
            "warehouse_id": first["id"],
            "quantity": -2,
            "reason": "Written off",
        },
        role="warehouse",
    )
    still_waiting = await deactivate(erp, first)
    assert still_waiting.status_code == 409, still_waiting.text
    problem = still_waiting.json()
    assert (problem["units_on_hand"], problem["units_reserved"], problem["open_orders"]) == (
        0,
        0,
        1,
    )
    assert "on hand" not in problem["detail"]
    assert "1 open order waiting on it" in problem["detail"]
    await assert_unchanged(erp, first)

    await erp.post(f"/orders/{waiting['id']}/cancel", role="admin")
    settled = await deactivate(erp, first)
    assert settled.status_code == 200, settled.text
    assert settled.json()["active"] is False


async def test_the_customer_replica_keeps_the_newest_state(erp: Erp) -> None:
    from decimal import Decimal

    from sqlalchemy import select

    from erp.adapters.replicas import CustomerReplica
    from shared_schemas.events.crm.customers import CustomerArchived, CustomerUpdated
    from shared_schemas.messaging import Outcome

    customer_id = uuid.uuid4()
    newer = CustomerUpdated(
        version=3,
        customer_id=customer_id,
        kind="company",
        name="Acme Renamed",
        owner_id=None,
        credit_limit=Decimal("9000.00"),
        payment_terms_days=45,
        changes=[],
    )
    assert await erp.publish(newer) is Outcome.APPLIED
    # The older creation arrives late and changes nothing (checked below).
    await erp.customer(customer_id=customer_id, version=1)
    assert await erp.publish(newer) is Outcome.SUPERSEDED
    archived = CustomerArchived(version=4, customer_id=customer_id)
    assert await erp.publish(archived) is Outcome.APPLIED
    async with erp.engine.connect() as connection:
        row = (
            await connection.execute(
                select(CustomerReplica).where(CustomerReplica.id == customer_id)
            )
        ).one()
    assert (row.name, row.credit_limit, row.payment_terms_days, row.archived, row.version) == (
        "Acme Renamed",
        Decimal("9000.00"),
        45,
        True,
        4,
    )


async def test_a_warehouse_address_has_bounded_lines_and_no_unknown_member(erp: Erp) -> None:
    headers = erp.headers("warehouse")
    address = {"street": "Lagerweg 1", "city": "Berlin", "country": "DE"}
    refused = {
        "address.zip": {**address, "zip": "12345"},
        "address.street": {**address, "street": "x" * 201},
        "address.postal_code": {**address, "postal_code": "1" * 21},
    }
    for field, bad in refused.items():
        response = await erp.client.post(
            "/warehouses",
            json={"code": "BER", "name": "Berlin", "address": bad},
            headers=headers,
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [error["field"] for error in response.json()["errors"]], response.text
    assert (await erp.client.get("/warehouses", headers=headers)).json()["items"] == []
    kept = await erp.client.post(
        "/warehouses",
        json={"code": "BER", "name": "Berlin", "address": {**address, "street": "x" * 200}},
        headers=headers,
    )
    assert kept.status_code == 201, kept.text
    assert kept.json()["address"]["street"] == "x" * 200
    changed = await erp.client.patch(
        f"/warehouses/{kept.json()['id']}",
        json={"address": {**address, "zip": "12345"}},
        headers=headers,
    )
    assert changed.status_code == 422, changed.text
    assert [e["field"] for e in changed.json()["errors"]] == ["address.zip"]
