"""Whole numbers and yes/no values in a request body are taken only as a JSON integer and
a JSON boolean: `true` is not a quantity of 1, `"2"` and `2.0` are not 2, `"yes"` and `1`
are not true. Anything else is a 422 naming the field, and nothing is created or changed
(SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api

NOT_INTEGERS: tuple[Any, ...] = (True, False, "2", "30", 2.0, 30.0)
NOT_BOOLEANS: tuple[Any, ...] = ("yes", "true", 1, 0, "1", 1.0)


def assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def sales(crm: Crm, sales_rep: uuid.UUID) -> dict[str, str]:
    return crm.headers("sales", sales_rep)


@pytest.fixture
async def manager(crm: Crm) -> dict[str, str]:
    """A sales manager's headers: they may also set a customer's payment terms."""
    return crm.headers("sales_manager", await crm.hire("sales_manager"))


async def new_customer(crm: Crm, sales: dict[str, str]) -> dict[str, Any]:
    response = await crm.client.post(
        "/customers", json={"kind": "company", "name": "Acme GmbH"}, headers=sales
    )
    return await created(response)


async def test_payment_terms_given_as_anything_but_an_integer_create_no_customer(
    crm: Crm, manager: dict[str, str]
) -> None:
    body = {"kind": "company", "name": "Acme GmbH"}
    for value in NOT_INTEGERS:
        response = await crm.client.post(
            "/customers", json=body | {"payment_terms_days": value}, headers=manager
        )
        assert_refused(response, "payment_terms_days")
    refused = await crm.client.post(
        "/customers", json=body | {"credit_limit": True}, headers=manager
    )
    assert_refused(refused, "credit_limit")
    assert (await crm.client.get("/customers", headers=manager)).json()["items"] == []
    assert await crm.events() == []

    customer = await created(
        await crm.client.post("/customers", json=body | {"payment_terms_days": 30}, headers=manager)
    )
    assert customer["payment_terms_days"] == 30


async def test_payment_terms_changed_to_a_boolean_or_a_string_change_nothing(
    crm: Crm, manager: dict[str, str]
) -> None:
    customer = await new_customer(crm, manager)
    url = f"/customers/{customer['id']}"
    events = await crm.events()
    for value in NOT_INTEGERS:
        response = await crm.client.patch(url, json={"payment_terms_days": value}, headers=manager)
        assert_refused(response, "payment_terms_days")
    assert (await crm.client.get(url, headers=manager)).json() == customer
    assert await crm.events() == events

    changed = await crm.client.patch(url, json={"payment_terms_days": 14}, headers=manager)
    assert (await created(changed))["payment_terms_days"] == 14


async def test_a_quote_line_quantity_must_be_an_integer(crm: Crm, sales: dict[str, str]) -> None:
    await crm.product("CHAIR", "19.99", "19")
    customer = await new_customer(crm, sales)
    events = await crm.events()
    for value in NOT_INTEGERS:
        line = {"sku": "CHAIR", "quantity": value}
        response = await crm.client.post(
            "/quotes", json={"customer_id": customer["id"], "lines": [line]}, headers=sales
        )
        assert_refused(response, "lines.0.quantity")
    assert (await crm.client.get("/quotes", headers=sales)).json()["items"] == []
    assert await crm.events() == events

    quote = await created(
        await crm.client.post(
            "/quotes",
            json={"customer_id": customer["id"], "lines": [{"sku": "CHAIR", "quantity": 2}]},
            headers=sales,
        )
    )
    assert [line["quantity"] for line in quote["lines"]] == [2]

    url = f"/quotes/{quote['id']}"
    response = await crm.client.patch(
        url, json={"lines": [{"sku": "CHAIR", "quantity": True}]}, headers=sales
    )
    assert_refused(response, "lines.0.quantity")
    assert (await crm.client.get(url, headers=sales)).json() == quote


async def test_an_opportunity_probability_must_be_an_integer(
    crm: Crm, sales: dict[str, str]
) -> None:
    customer = await new_customer(crm, sales)
    body = {"name": "Racking", "customer_id": customer["id"], "amount": "1000.00"}
    events = await crm.events()
    for value in NOT_INTEGERS:
        response = await crm.client.post(
            "/opportunities", json=body | {"probability": value}, headers=sales
        )
        assert_refused(response, "probability")
    assert (await crm.client.get("/opportunities", headers=sales)).json()["items"] == []
    assert await crm.events() == events

    opportunity = await created(
        await crm.client.post("/opportunities", json=body | {"probability": 30}, headers=sales)
    )
    assert opportunity["probability"] == 30
    url = f"/opportunities/{opportunity['id']}"
    events = await crm.events()
    for value in NOT_INTEGERS:
        assert_refused(
            await crm.client.patch(url, json={"probability": value}, headers=sales), "probability"
        )
        moved = await crm.client.post(
            f"{url}/stage", json={"stage": "proposal", "probability": value}, headers=sales
        )
        assert_refused(moved, "probability")
    assert (await crm.client.get(url, headers=sales)).json() == opportunity
    assert await crm.events() == events


async def test_a_primary_contact_is_said_with_true_or_false_only(
    crm: Crm, sales: dict[str, str]
) -> None:
    customer = await new_customer(crm, sales)
    url = f"/customers/{customer['id']}/contacts"
    for value in NOT_BOOLEANS:
        response = await crm.client.post(
            url, json={"name": "Jana", "is_primary": value}, headers=sales
        )
        assert_refused(response, "is_primary")
    assert (await crm.client.get(url, headers=sales)).json()["items"] == []

    jana = await created(
        await crm.client.post(url, json={"name": "Jana", "is_primary": False}, headers=sales)
    )
    assert jana["is_primary"] is False
    for value in NOT_BOOLEANS:
        response = await crm.client.patch(
            f"{url}/{jana['id']}", json={"is_primary": value}, headers=sales
        )
        assert_refused(response, "is_primary")
    assert (await crm.client.get(f"{url}/{jana['id']}", headers=sales)).json() == jana

    made_primary = await crm.client.patch(
        f"{url}/{jana['id']}", json={"is_primary": True}, headers=sales
    )
    assert (await created(made_primary))["is_primary"] is True


async def test_a_custom_field_is_required_with_true_or_false_only(
    crm: Crm, manager: dict[str, str]
) -> None:
    definition = {"key": "partner", "label": "Partner", "type": "boolean"}
    for value in NOT_BOOLEANS:
        response = await crm.client.post(
            "/custom-fields", json=definition | {"required": value}, headers=manager
        )
        assert_refused(response, "required")
    assert (await crm.client.get("/custom-fields", headers=manager)).json() == []

    defined = await crm.client.post(
        "/custom-fields", json=definition | {"required": True}, headers=manager
    )
    assert (await created(defined))["required"] is True


async def test_a_conversion_with_payment_terms_as_a_string_converts_nothing(
    crm: Crm, manager: dict[str, str]
) -> None:
    lead = await created(
        await crm.client.post(
            "/leads",
            json={"name": "Jana Novak", "company_name": "Novak Bau GmbH", "source": "web"},
            headers=manager,
        )
    )
    url = f"/leads/{lead['id']}"
    events = await crm.events()
    for value in NOT_INTEGERS:
        response = await crm.client.post(
            f"{url}/convert", json={"customer": {"payment_terms_days": value}}, headers=manager
        )
        assert_refused(response, "customer.payment_terms_days")
    assert (await crm.client.get(url, headers=manager)).json() == lead
    assert (await crm.client.get("/customers", headers=manager)).json()["items"] == []
    assert await crm.events() == events

    converted = await crm.client.post(
        f"{url}/convert", json={"customer": {"payment_terms_days": 45}}, headers=manager
    )
    customer_id = (await created(converted))["customer_id"]
    customer = await crm.client.get(f"/customers/{customer_id}", headers=manager)
    assert customer.json()["payment_terms_days"] == 45
