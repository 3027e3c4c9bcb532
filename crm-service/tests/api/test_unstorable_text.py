"""Text JSON lets a client write but no service can store or echo: a lone surrogate
(`"\\ud800"`, escaped in the JSON) is refused with a 422 problem, and nothing is created."""

from __future__ import annotations

import base64
import json
import uuid

import httpx
import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api

LONE_SURROGATE = "\ud800"


def assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert field in [error["field"] for error in problem["errors"]]


def cursor_of(key: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


async def test_a_custom_field_named_by_a_lone_surrogate_is_refused_by_name(crm: Crm) -> None:
    headers = {**crm.headers("admin"), "content-type": "application/json"}
    body = {"kind": "company", "name": "Acme", "custom_fields": {LONE_SURROGATE: "x"}}

    response = await crm.client.post("/customers", content=json.dumps(body), headers=headers)

    assert_refused(response, f"custom_fields.{LONE_SURROGATE}")
    listed = await crm.client.get("/customers", headers=headers)
    assert listed.json()["items"] == []


async def test_a_cursor_holding_a_lone_surrogate_was_not_issued_here(crm: Crm) -> None:
    headers = crm.headers("admin")
    forged = cursor_of(["name", LONE_SURROGATE, str(uuid.uuid4())])

    response = await crm.client.get(f"/customers?sort=name&cursor={forged}", headers=headers)

    assert_refused(response, "query.cursor")


async def test_a_custom_text_holding_a_lone_surrogate_is_refused(crm: Crm) -> None:
    headers = {**crm.headers("admin"), "content-type": "application/json"}
    field = {"key": "motto", "label": "Motto", "type": "text"}
    assert (await crm.client.post("/custom-fields", json=field, headers=headers)).status_code == 201
    body = {"kind": "company", "name": "Acme", "custom_fields": {"motto": LONE_SURROGATE}}

    response = await crm.client.post("/customers", content=json.dumps(body), headers=headers)

    assert_refused(response, "custom_fields.motto")
    listed = await crm.client.get("/customers", headers=headers)
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "company", "name": "Ac\u0000me"}, "name"),
        ({"kind": "company", "name": "Acme", "tags": ["ok", "v\u0000ip"]}, "tags.1"),
        (
            {
                "kind": "company",
                "name": "Acme",
                "billing_address": {"street": "\u0000", "city": "B", "country": "DE"},
            },
            "billing_address.street",
        ),
    ],
)
async def test_text_with_a_nul_is_refused_by_name_on_every_database(
    crm: Crm, body: dict[str, object], field: str
) -> None:
    """PostgreSQL cannot keep a NUL in text and SQLite could: one answer on both, naming
    where the NUL is, and nothing created."""
    headers = crm.headers("admin")
    response = await crm.client.post("/customers", json=body, headers=headers)
    assert_refused(response, field)
    assert response.json()["errors"] == [
        {"field": field, "message": "text may not contain a NUL character"}
    ]
    assert (await crm.client.get("/customers", headers=headers)).json()["items"] == []
    assert await crm.events() == []


async def test_a_query_with_a_nul_is_refused_by_name(crm: Crm) -> None:
    response = await crm.client.get("/customers?q=a%00b", headers=crm.headers("admin"))
    assert_refused(response, "query.q")
    # An escaped backslash before u0000 is text, not a NUL: kept as sent.
    created = await crm.client.post(
        "/customers",
        content=b'{"kind": "company", "name": "C:\\\\u0000"}',
        headers={**crm.headers("admin"), "content-type": "application/json"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "C:\\u0000"
