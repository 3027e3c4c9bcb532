"""Amounts a record keeps (a deal's amount, a customer's credit limit) go up to
999999999999.99, as quote totals do: one more cent is a 422 naming the field on every
database, and nothing is written."""

from __future__ import annotations

import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api

LARGEST = "999999999999.99"
TOO_LARGE = "1000000000000.00"


def refused_field(response_json: dict[str, object]) -> list[object]:
    errors = response_json.get("errors")
    assert isinstance(errors, list)
    return [error["field"] for error in errors]


@pytest.fixture
async def manager(crm: Crm) -> dict[str, str]:
    return crm.headers("sales_manager", await crm.hire("sales_manager", name="Mia Manager"))


async def test_a_deal_amount_past_the_largest_is_422_naming_it(
    crm: Crm, manager: dict[str, str]
) -> None:
    customer = await crm.client.post(
        "/customers", json={"kind": "company", "name": "Acme"}, headers=manager
    )
    deal = {"name": "Refit", "customer_id": customer.json()["id"]}

    largest = await crm.client.post(
        "/opportunities", json={**deal, "amount": LARGEST}, headers=manager
    )
    too_large = await crm.client.post(
        "/opportunities", json={**deal, "amount": TOO_LARGE}, headers=manager
    )
    raised = await crm.client.patch(
        f"/opportunities/{largest.json()['id']}", json={"amount": TOO_LARGE}, headers=manager
    )

    assert largest.status_code == 201, largest.text
    assert largest.json()["amount"] == LARGEST
    for refused in (too_large, raised):
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused_field(refused.json()) == ["amount"]
    listed = (await crm.client.get("/opportunities", headers=manager)).json()["items"]
    assert [(item["amount"], item["version"]) for item in listed] == [(LARGEST, 1)]


async def test_a_credit_limit_past_the_largest_is_422_naming_it(
    crm: Crm, manager: dict[str, str]
) -> None:
    body = {"kind": "company", "name": "Acme"}

    largest = await crm.client.post(
        "/customers", json={**body, "credit_limit": LARGEST}, headers=manager
    )
    too_large = await crm.client.post(
        "/customers?force=true", json={**body, "credit_limit": TOO_LARGE}, headers=manager
    )
    raised = await crm.client.patch(
        f"/customers/{largest.json()['id']}", json={"credit_limit": TOO_LARGE}, headers=manager
    )

    assert largest.status_code == 201, largest.text
    assert largest.json()["credit_limit"] == LARGEST
    for refused in (too_large, raised):
        assert refused.status_code == 422, refused.text
        assert refused_field(refused.json()) == ["credit_limit"]
    listed = (await crm.client.get("/customers", headers=manager)).json()["items"]
    assert [(item["credit_limit"], item["version"]) for item in listed] == [(LARGEST, 1)]


@pytest.mark.parametrize(
    ("conversion", "field"),
    [
        ({"customer": {"credit_limit": TOO_LARGE}}, "customer.credit_limit"),
        ({"opportunity": {"name": "Refit", "amount": TOO_LARGE}}, "opportunity.amount"),
    ],
)
async def test_a_conversion_past_the_largest_amount_is_422_naming_it(
    crm: Crm, manager: dict[str, str], conversion: dict[str, object], field: str
) -> None:
    lead = await crm.client.post("/leads", json={"name": "Jana Novak"}, headers=manager)

    refused = await crm.client.post(
        f"/leads/{lead.json()['id']}/convert", json=conversion, headers=manager
    )

    assert refused.status_code == 422, refused.text
    assert refused_field(refused.json()) == [field]
    read = await crm.client.get(f"/leads/{lead.json()['id']}", headers=manager)
    assert read.json()["status"] == "new"
    assert (await crm.client.get("/customers", headers=manager)).json()["items"] == []
