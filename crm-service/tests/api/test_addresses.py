"""Addresses sent to the CRM: each line has a length, an unknown member is refused like in
every other body, and the longest address a customer may have is kept and published."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api

ADDRESS = {"street": "Hauptstraße 5", "postal_code": "10115", "city": "Berlin", "country": "DE"}
LONGEST = {
    "street": "s" * 200,
    "street2": "t" * 200,
    "postal_code": "p" * 20,
    "city": "c" * 100,
    "region": "r" * 100,
    "country": "DE",
}


def fields_of(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem["errors"]]


@pytest.fixture
async def sales(crm: Crm, sales_rep: uuid.UUID) -> dict[str, str]:
    return crm.headers("sales", sales_rep)


@pytest.mark.parametrize(
    ("address", "field"),
    [
        ({**ADDRESS, "street": "x" * 201}, "street"),
        ({**ADDRESS, "street2": "x" * 201}, "street2"),
        ({**ADDRESS, "postal_code": "1" * 21}, "postal_code"),
        ({**ADDRESS, "city": "x" * 101}, "city"),
        ({**ADDRESS, "region": "x" * 101}, "region"),
        ({**ADDRESS, "zip": "10115"}, "zip"),
    ],
)
async def test_a_bad_address_line_is_422_naming_it_and_nothing_is_written(
    crm: Crm, sales: dict[str, str], address: dict[str, str], field: str
) -> None:
    body = {"kind": "company", "name": "Acme", "shipping_address": address}

    refused = await crm.client.post("/customers", json=body, headers=sales)

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert fields_of(refused.json()) == [f"shipping_address.{field}"]
    created = await crm.client.post(
        "/customers", json={"kind": "company", "name": "Acme"}, headers=sales
    )
    changed = await crm.client.patch(
        f"/customers/{created.json()['id']}", json={"billing_address": address}, headers=sales
    )
    assert changed.status_code == 422, changed.text
    assert fields_of(changed.json()) == [f"billing_address.{field}"]
    lead = await crm.client.post("/leads", json={"name": "Jana Novak"}, headers=sales)
    converted = await crm.client.post(
        f"/leads/{lead.json()['id']}/convert",
        json={"customer": {"billing_address": address}},
        headers=sales,
    )
    assert converted.status_code == 422, converted.text
    assert fields_of(converted.json()) == [f"customer.billing_address.{field}"]
    listed = (await crm.client.get("/customers", headers=sales)).json()["items"]
    assert [(item["billing_address"], item["version"]) for item in listed] == [(None, 1)]


async def test_the_longest_addresses_are_kept_and_published(
    crm: Crm, sales: dict[str, str]
) -> None:
    wide = {key: value.replace("s", "😀") for key, value in LONGEST.items()}
    body = {"kind": "company", "name": "Acme", "billing_address": wide}
    created = await crm.client.post("/customers", json=body, headers=sales)
    assert created.status_code == 201, created.text

    changed = await crm.client.patch(
        f"/customers/{created.json()['id']}",
        json={"billing_address": LONGEST, "shipping_address": wide},
        headers=sales,
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["billing_address"] == LONGEST
    assert changed.json()["shipping_address"] == wide
    [updated] = await crm.events("crm.customer.updated.v1")
    assert updated["data"]["billing_address"] == LONGEST
