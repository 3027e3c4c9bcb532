"""Who may do what to customers (design.md §7): route, object and property level."""

from __future__ import annotations

import uuid

import pytest

from tests.support.crm import Crm

pytestmark = [pytest.mark.api, pytest.mark.security]

ACME = {"kind": "company", "name": "Acme GmbH", "email": "buy@acme.example"}


async def current(crm: Crm, customer_id: str) -> dict:
    response = await crm.client.get(f"/customers/{customer_id}", headers=crm.headers("admin"))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def names(crm: Crm) -> list[str]:
    response = await crm.client.get("/customers", headers=crm.headers("admin"))
    assert response.status_code == 200, response.text
    return [customer["name"] for customer in response.json()["items"]]


async def create(crm: Crm, role: str, employee: uuid.UUID | None, **body: object) -> dict:
    response = await crm.client.post(
        "/customers", json={**ACME, **body}, headers=crm.headers(role, employee)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    ("role", "read", "create_"),
    [
        ("admin", 200, 201),
        ("sales", 200, 201),
        ("sales_manager", 200, 201),
        ("support", 200, 403),
        ("finance", 200, 403),
        ("warehouse", 403, 403),
        ("hr", 403, 403),
    ],
)
async def test_each_role_reads_and_creates_customers_as_the_table_says(
    crm: Crm, role: str, read: int, create_: int
) -> None:
    headers = crm.headers(role, None)
    assert (await crm.client.get("/customers", headers=headers)).status_code == read
    # Who reads customers reads what their custom values are (labels, types, options).
    definitions = await crm.client.get("/custom-fields", headers=headers)
    assert definitions.status_code == read, definitions.text
    response = await crm.client.post("/customers", json=ACME, headers=headers)
    assert response.status_code == create_, response.text
    if create_ == 403:
        assert await crm.events() == []


async def test_sales_changes_only_customers_they_own(crm: Crm) -> None:
    owner, other = await crm.hire("sales"), await crm.hire("sales")
    customer = await create(crm, "sales", owner)
    url = f"/customers/{customer['id']}"
    refused = await crm.client.patch(url, json={"phone": "1"}, headers=crm.headers("sales", other))
    assert refused.status_code == 403
    assert (
        await crm.client.post(f"{url}/archive", headers=crm.headers("sales", other))
    ).status_code == 403
    assert await current(crm, customer["id"]) == customer, "a refused change changes nothing"
    allowed = await crm.client.patch(url, json={"phone": "1"}, headers=crm.headers("sales", owner))
    assert allowed.status_code == 200
    assert (allowed.json()["phone"], allowed.json()["version"]) == ("1", 2)
    managed = await crm.client.patch(
        url,
        json={"phone": "2"},
        headers=crm.headers("sales_manager", await crm.hire("sales_manager")),
    )
    assert managed.status_code == 200
    assert (await current(crm, customer["id"]))["phone"] == "2"


async def test_credit_terms_are_set_by_finance_and_managers_only(crm: Crm) -> None:
    rep = await crm.hire("sales")
    refused = await crm.client.post(
        "/customers", json={**ACME, "credit_limit": "5000.00"}, headers=crm.headers("sales", rep)
    )
    assert refused.status_code == 403
    assert refused.json()["errors"] == [
        {"field": "credit_limit", "message": "not allowed for your role"}
    ]
    assert await names(crm) == []
    customer = await create(crm, "sales", rep)
    url = f"/customers/{customer['id']}"
    finance = crm.headers("finance", await crm.hire("finance"))
    set_terms = await crm.client.patch(
        url, json={"credit_limit": "5000.00", "payment_terms_days": 45}, headers=finance
    )
    assert set_terms.status_code == 200
    assert set_terms.json()["credit_limit"] == "5000.00"
    assert set_terms.json()["payment_terms_days"] == 45
    # Finance may not change anything else of a customer.
    renamed = await crm.client.patch(url, json={"name": "Other"}, headers=finance)
    assert renamed.status_code == 403
    assert renamed.json()["errors"][0]["field"] == "name"
    by_owner = await crm.client.patch(
        url, json={"payment_terms_days": 10}, headers=crm.headers("sales", rep)
    )
    assert by_owner.status_code == 403
    assert by_owner.json()["errors"][0]["field"] == "payment_terms_days"
    assert await current(crm, customer["id"]) == set_terms.json()


async def test_owner_rules_take_for_self_hand_over_as_manager_eligible_only(crm: Crm) -> None:
    manager = await crm.hire("sales_manager")
    rep, colleague = await crm.hire("sales", manager_id=manager), await crm.hire("sales")
    support = await crm.hire("support")
    customer = await create(crm, "sales", rep)
    url = f"/customers/{customer['id']}"
    handed = await crm.client.patch(
        url, json={"owner_id": str(colleague)}, headers=crm.headers("sales", rep)
    )
    assert handed.status_code == 403
    assert handed.json()["errors"][0]["field"] == "owner_id"
    assert await current(crm, customer["id"]) == customer
    moved = await crm.client.patch(
        url, json={"owner_id": str(colleague)}, headers=crm.headers("sales_manager", manager)
    )
    assert moved.status_code == 200
    assert moved.json()["owner_id"] == str(colleague)
    ineligible = await crm.client.patch(
        url, json={"owner_id": str(support)}, headers=crm.headers("sales_manager", manager)
    )
    assert ineligible.status_code == 422
    assert ineligible.json()["errors"][0]["field"] == "owner_id"
    assert await current(crm, customer["id"]) == moved.json()
    unknown = await crm.client.post(
        "/customers",
        json={**ACME, "name": "New", "email": None, "owner_id": str(uuid.uuid4())},
        headers=crm.headers("sales_manager", manager),
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "owner_id"
    assert await names(crm) == [ACME["name"]]


async def test_a_terminated_rep_cannot_be_given_customers(crm: Crm) -> None:
    manager = await crm.hire("sales_manager")
    leaver = await crm.hire("sales", manager_id=manager)
    await crm.terminate(leaver, manager_id=manager)
    response = await crm.client.post(
        "/customers",
        json={**ACME, "owner_id": str(leaver)},
        headers=crm.headers("sales_manager", manager),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "owner_id"
    assert await names(crm) == []
    assert await crm.events("crm.customer.created.v1") == []


async def test_contacts_follow_their_customers_owner(crm: Crm) -> None:
    owner, other = await crm.hire("sales"), await crm.hire("sales")
    customer = await create(crm, "sales", owner)
    url = f"/customers/{customer['id']}/contacts"
    refused = await crm.client.post(url, json={"name": "Jana"}, headers=crm.headers("sales", other))
    assert refused.status_code == 403
    added = await crm.client.post(url, json={"name": "Jana"}, headers=crm.headers("sales", owner))
    assert added.status_code == 201
    seen = await crm.client.get(url, headers=crm.headers("support"))
    assert [c["name"] for c in seen.json()["items"]] == ["Jana"]
    assert (await crm.client.get(url, headers=crm.headers("warehouse"))).status_code == 403
