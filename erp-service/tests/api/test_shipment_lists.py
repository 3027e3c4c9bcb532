"""The shipment list of the warehouse screens: the shipments of one customer's orders, and
a search by a prefix of the number or of the tracking number; every page walked with
small limits."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.erp import Erp, ship

pytestmark = pytest.mark.api

# (customer, tracking number) of each shipment, in the order they are made.
SHIPMENTS = [
    (0, "1Z999AA10123456784"),
    (0, "1z999aa10999"),
    (1, "JJD0001"),
    (0, None),
    (1, "1Z  555"),
    (1, "Größe-7"),
]


async def walk(erp: Erp, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": 2, **params, **({"cursor": cursor} if cursor else {})}
        response = await erp.client.get(
            "/shipments", params=query, headers=erp.headers("warehouse")
        )
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return found


def numbers(shipments: list[dict[str, Any]]) -> list[str]:
    return [s["number"] for s in shipments]


async def shipments_of_two_customers(erp: Erp) -> tuple[list[uuid.UUID], list[dict[str, Any]]]:
    await erp.warehouse("MAIN", default=True)
    await erp.product("CHAIR", "10.00", cost="4.00")
    await erp.receive("CHAIR", 50)
    customers = [await erp.customer(), await erp.customer(name="Globex")]
    orders = [await erp.order(customer, [("CHAIR", 10)]) for customer in customers]
    made = []
    for customer, tracking in SHIPMENTS:
        fields = {"tracking_number": tracking} if tracking else {}
        response = await ship(erp, orders[customer], [("CHAIR", 1)], **fields)
        assert response.status_code == 201, response.text
        made.append(response.json())
    return customers, made


async def test_shipments_of_a_customer_over_pages(erp: Erp) -> None:
    customers, made = await shipments_of_two_customers(erp)
    listed = await walk(erp, sort="shipped_at")
    assert len(listed) == len(SHIPMENTS)
    by_number = {s["number"]: s for s in listed}
    for index, customer in enumerate(customers):
        expected = sorted(
            s["number"] for s, (owner, _) in zip(made, SHIPMENTS, strict=True) if owner == index
        )
        for sort in ("shipped_at", "-created_at"):
            found = numbers(await walk(erp, customer_id=str(customer), sort=sort))
            assert sorted(found) == expected, sort
            keys = [(by_number[n][sort.lstrip("-")], by_number[n]["id"]) for n in found]
            assert keys == sorted(keys, reverse=sort.startswith("-")), sort
    assert await walk(erp, customer_id=str(uuid.uuid4())) == []


async def test_shipments_are_found_by_number_or_tracking_number(erp: Erp) -> None:
    _, made = await shipments_of_two_customers(erp)
    ordered = sorted(made, key=lambda s: s["number"])
    tracking = {s["number"]: t for s, (_, t) in zip(made, SHIPMENTS, strict=True)}
    for q, expected in (
        ("1z999", ["1Z999AA10123456784", "1z999aa10999"]),
        ("  1Z ", ["1Z999AA10123456784", "1z999aa10999", "1Z  555"]),
        ("1z 555", ["1Z  555"]),
        ("gröss", ["Größe-7"]),
        ("jjd0001x", []),
        ("1z%", []),
    ):
        for sort in ("shipped_at", "-created_at"):
            found = await walk(erp, q=q, sort=sort)
            assert sorted(s["tracking_number"] for s in found) == sorted(expected), q
            keys = [(s[sort.lstrip("-")], s["id"]) for s in found]
            assert keys == sorted(keys, reverse=sort.startswith("-")), q
    # A number's prefix, in any case, finds the shipments so numbered.
    first = ordered[0]["number"]
    found = await walk(erp, q=first.lower(), sort="shipped_at")
    assert numbers(found) == [first]
    year_prefix = first.rsplit("-", 1)[0]
    assert sorted(numbers(await walk(erp, q=year_prefix))) == [s["number"] for s in ordered]
    assert {tracking[n] for n in numbers(await walk(erp, q=year_prefix))} == {
        t for _, t in SHIPMENTS
    }


@pytest.mark.parametrize(
    ("parameter", "value"), [("customer_id", "acme"), ("q", ""), ("q", "x" * 101)]
)
async def test_the_shipment_list_refuses_bad_values_naming_the_parameter(
    erp: Erp, parameter: str, value: str
) -> None:
    response = await erp.client.get(
        "/shipments", params={parameter: value}, headers=erp.headers("warehouse")
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == f"query.{parameter}"
    document = (await erp.client.get("/openapi.json")).json()
    parameters = {p["name"]: p for p in document["paths"]["/shipments"]["get"]["parameters"]}
    assert parameters[parameter]["description"]
