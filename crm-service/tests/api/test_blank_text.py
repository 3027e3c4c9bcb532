"""Names, subjects and reasons are stored without the white space around them, and text
that is nothing but white space is refused with a 422 naming the field: nothing is
created or changed (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api

# No-break and em spaces; a zero-width space and a byte order mark, which print as nothing.
BLANKS = ("", "   ", "\t\n", "\u00a0\u2003", "\u200b", "\ufeff \u200b")


def assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_a_blank_name_creates_no_customer_and_a_padded_one_is_trimmed(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    sales = crm.headers("sales", sales_rep)
    for blank in BLANKS:
        response = await crm.client.post(
            "/customers", json={"kind": "company", "name": blank}, headers=sales
        )
        assert_refused(response, "name")
    assert (await crm.client.get("/customers", headers=sales)).json()["items"] == []

    created = await crm.client.post(
        "/customers",
        json={"kind": "company", "name": "\ufeff  Acme GmbH\u200b\n", "tags": [" vip "]},
        headers=sales,
    )
    assert created.status_code == 201, created.text
    assert (created.json()["name"], created.json()["tags"]) == ("Acme GmbH", ["vip"])
    found = await crm.client.get("/customers", params={"q": "acme"}, headers=sales)
    assert [item["name"] for item in found.json()["items"]] == ["Acme GmbH"]


async def test_renaming_a_customer_to_blanks_changes_nothing(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    sales = crm.headers("sales", sales_rep)
    created = await crm.client.post(
        "/customers", json={"kind": "company", "name": "Acme GmbH"}, headers=sales
    )
    customer = created.json()

    response = await crm.client.patch(
        f"/customers/{customer['id']}", json={"name": "   "}, headers=sales
    )

    assert_refused(response, "name")
    unchanged = await crm.client.get(f"/customers/{customer['id']}", headers=sales)
    assert unchanged.json() == customer


async def test_a_lead_without_a_name_or_a_case_without_a_subject_is_refused(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    sales = crm.headers("sales", sales_rep)
    lead = {"name": "   ", "company_name": "Novak Bau GmbH", "source": "web"}
    assert_refused(await crm.client.post("/leads", json=lead, headers=sales), "name")
    assert (await crm.client.get("/leads", headers=sales)).json()["items"] == []

    customer = await crm.client.post(
        "/customers", json={"kind": "company", "name": "Acme GmbH"}, headers=sales
    )
    agent = await crm.hire("support", name="Sue Support")
    support = crm.headers("support", agent)
    case = {"channel": "email", "subject": "\t", "customer_id": customer.json()["id"]}
    assert_refused(await crm.client.post("/inquiries", json=case, headers=support), "subject")
    assert (await crm.client.get("/inquiries", headers=support)).json()["items"] == []
