"""Finding customers: filters, prefix search, sorting and keyset pages that stay stable."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api


async def add(crm: Crm, headers: dict[str, str], name: str, **extra: Any) -> dict[str, Any]:
    body = {"kind": "company", "name": name, **extra}
    response = await crm.client.post("/customers?force=true", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def names(crm: Crm, headers: dict[str, str], query: str) -> list[str]:
    response = await crm.client.get(f"/customers?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def walk(crm: Crm, headers: dict[str, str], query: str, between: Any = None) -> list[str]:
    """Every id of a listing, page by page; `between()` runs after each page."""
    seen: list[str] = []
    cursor = None
    while True:
        url = f"/customers?{query}" + (f"&cursor={cursor}" if cursor else "")
        page = (await crm.client.get(url, headers=headers)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
        if between is not None:
            await between()


async def test_q_is_a_case_insensitive_prefix_of_name_or_email(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    await add(crm, headers, "Acme GmbH", email="info@acme.example")
    await add(crm, headers, "Zeta 100% Ltd", email="hello@acme-zeta.example")
    await add(crm, headers, "Beta_Works", email="mail@beta.example")
    assert await names(crm, headers, "q=ACM&sort=name") == ["Acme GmbH"]
    assert await names(crm, headers, "q=hello&sort=name") == ["Zeta 100% Ltd"]
    assert await names(crm, headers, "q=zeta%20100%25&sort=name") == ["Zeta 100% Ltd"]
    # % and _ are literal characters, not wildcards.
    assert await names(crm, headers, "q=%25") == []
    assert await names(crm, headers, "q=beta_&sort=name") == ["Beta_Works"]
    assert await names(crm, headers, "q=b_ta") == []


async def test_filters_combine(crm: Crm) -> None:
    manager = await crm.hire("sales_manager")
    rep_a, rep_b = await crm.hire("sales"), await crm.hire("sales")
    headers = crm.headers("sales_manager", manager)
    await add(crm, headers, "A1", owner_id=str(rep_a), tags=["vip"], industry="Retail")
    await add(crm, headers, "A2", owner_id=str(rep_a), kind="person")
    await add(crm, headers, "B1", owner_id=str(rep_b), tags=["VIP", "north"], industry="Retail")
    archived = await add(crm, headers, "B2", owner_id=str(rep_b), tags=["vip"])
    await crm.client.post(f"/customers/{archived['id']}/archive", headers=headers)
    assert await names(crm, headers, f"owner_id={rep_a}&sort=name") == ["A1", "A2"]
    assert await names(crm, headers, f"owner_id={rep_a}&owner_id={rep_b}&sort=name") == [
        "A1",
        "A2",
        "B1",
    ]
    assert await names(crm, headers, "tag=vip&sort=name") == ["A1", "B1"]
    assert await names(crm, headers, "tag=north&tag=nothing&sort=name") == ["B1"]
    assert await names(crm, headers, "kind=person") == ["A2"]
    assert await names(crm, headers, "industry=Retail&sort=-name") == ["B1", "A1"]
    assert await names(crm, headers, "status=archived") == ["B2"]
    assert await names(crm, headers, "status=archived&status=active&tag=vip&sort=name") == [
        "A1",
        "B1",
        "B2",
    ]
    far_future = "2999-01-01T00:00:00Z"
    assert await names(crm, headers, f"created_from={far_future}") == []
    assert len(await names(crm, headers, f"created_to={far_future}")) == 3


async def test_bad_listing_parameters_are_422(crm: Crm) -> None:
    headers = crm.headers("sales")
    for query in (
        "limit=201",
        "limit=0",
        "sort=email",
        "cursor=not-a-cursor",
        "status=deleted",
        "owner_id=nope",
        "created_from=yesterday",
        "cf.unknown=1",
    ):
        response = await crm.client.get(f"/customers?{query}", headers=headers)
        assert response.status_code == 422, query
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_cursor_only_continues_the_listing_it_came_from(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    headers = crm.headers("sales", sales_rep)
    for name in ("A", "B", "C"):
        await add(crm, headers, name)
    page = (await crm.client.get("/customers?limit=1&sort=name", headers=headers)).json()
    other = await crm.client.get(
        f"/customers?limit=1&sort=-created_at&cursor={page['next_cursor']}", headers=headers
    )
    assert other.status_code == 422


@pytest.mark.parametrize("sort", ["-created_at", "name", "-name", "created_at"])
async def test_pages_neither_repeat_nor_skip_while_rows_are_inserted(
    crm: Crm, sales_rep: uuid.UUID, sort: str
) -> None:
    headers = crm.headers("sales", sales_rep)
    existing = [(await add(crm, headers, f"Firm {i:02d}"))["id"] for i in range(9)]
    counter = iter(range(100))

    async def insert_more() -> None:
        # Names sort before, between and after the existing ones.
        n = next(counter)
        await add(crm, headers, ["Aaa", "Firm 04b", "Zzz"][n % 3] + f" {n}")

    seen = await walk(crm, headers, f"limit=2&sort={sort}", between=insert_more)
    assert len(seen) == len(set(seen)), "a row was repeated"
    assert set(existing) <= set(seen), "a row that existed from the start was skipped"


async def test_custom_fields_are_typed_validated_and_filterable(crm: Crm) -> None:
    manager = await crm.hire("sales_manager")
    headers = crm.headers("sales_manager", manager)
    definitions = [
        {"key": "segment", "label": "Segment", "type": "select", "options": ["smb", "enterprise"]},
        {"key": "employees", "label": "Employees", "type": "number"},
        {"key": "founded", "label": "Founded", "type": "date"},
        {"key": "partner", "label": "Partner", "type": "boolean"},
    ]
    for definition in definitions:
        created = await crm.client.post("/custom-fields", json=definition, headers=headers)
        assert created.status_code == 201, created.text
    again = await crm.client.post(
        "/custom-fields", json={**definitions[0], "options": ["micro"]}, headers=headers
    )
    assert again.status_code == 409
    sales_define = await crm.client.post(
        "/custom-fields",
        json={"key": "x", "label": "X", "type": "text"},
        headers=crm.headers("sales", await crm.hire("sales")),
    )
    assert sales_define.status_code == 403
    defined = await crm.client.get("/custom-fields", headers=headers)
    assert defined.status_code == 200, defined.text
    assert sorted(field["key"] for field in defined.json()) == [
        "employees",
        "founded",
        "partner",
        "segment",
    ]
    [segment] = [field for field in defined.json() if field["key"] == "segment"]
    assert segment["options"] == ["smb", "enterprise"]

    big = await add(
        crm,
        headers,
        "Big",
        custom_fields={"segment": "enterprise", "employees": 5000, "founded": "1999-04-01"},
    )
    assert big["custom_fields"] == {
        "segment": "enterprise",
        "employees": "5000",
        "founded": "1999-04-01",
    }
    await add(crm, headers, "Small", custom_fields={"segment": "smb", "partner": True})
    invalid = await crm.client.post(
        "/customers",
        json={
            "kind": "company",
            "name": "Bad",
            "custom_fields": {"segment": "huge", "employees": "many", "nope": 1},
        },
        headers=headers,
    )
    assert invalid.status_code == 422
    assert {e["field"] for e in invalid.json()["errors"]} == {
        "custom_fields.segment",
        "custom_fields.employees",
        "custom_fields.nope",
    }
    assert await names(crm, headers, "cf.segment=enterprise") == ["Big"]
    assert await names(crm, headers, "cf.employees=5000") == ["Big"]
    assert await names(crm, headers, "cf.founded=1999-04-01") == ["Big"]
    assert await names(crm, headers, "cf.partner=true") == ["Small"]
    bad_filter = await crm.client.get("/customers?cf.employees=lots", headers=headers)
    assert bad_filter.status_code == 422
    # A changed value moves the customer between filters.
    moved = await crm.client.patch(
        f"/customers/{big['id']}", json={"custom_fields": {"segment": "smb"}}, headers=headers
    )
    assert moved.status_code == 200, moved.text
    assert await names(crm, headers, "cf.segment=smb&sort=name") == ["Big", "Small"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e30", "must be less than 1e14 in magnitude"),
        ("100000000000000", "must be less than 1e14 in magnitude"),
        ("1e-200000", "must have at most 6 decimals"),
        ("0.0000001", "must have at most 6 decimals"),
    ],
)
async def test_a_custom_number_must_fit_what_is_stored(crm: Crm, value: str, message: str) -> None:
    headers = crm.headers("admin")
    field = {"key": "revenue", "label": "Revenue", "type": "number"}
    assert (await crm.client.post("/custom-fields", json=field, headers=headers)).status_code == 201

    body = {"kind": "company", "name": "Acme", "custom_fields": {"revenue": value}}
    refused = await crm.client.post("/customers", json=body, headers=headers)

    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [{"field": "custom_fields.revenue", "message": message}]
    assert await names(crm, headers, "") == []
    widest = {"revenue": "-99999999999999.999999"}
    kept = await add(crm, headers, "Acme", custom_fields=widest)
    assert kept["custom_fields"] == widest
    assert await names(crm, headers, "cf.revenue=-99999999999999.999999") == ["Acme"]


async def test_a_required_custom_field_must_be_given(crm: Crm) -> None:
    headers = crm.headers("sales_manager", await crm.hire("sales_manager"))
    defined = await crm.client.post(
        "/custom-fields",
        json={"key": "vat_id", "label": "VAT id", "type": "text", "required": True},
        headers=headers,
    )
    assert defined.status_code == 201, defined.text
    missing = await crm.client.post(
        "/customers", json={"kind": "company", "name": "NoVat"}, headers=headers
    )
    assert missing.status_code == 422
    assert missing.json()["errors"] == [{"field": "custom_fields.vat_id", "message": "required"}]
    assert await names(crm, headers, "") == []
    given = await add(crm, headers, "WithVat", custom_fields={"vat_id": "DE123456789"})
    assert given["custom_fields"] == {"vat_id": "DE123456789"}


async def test_idempotency_key_replays_the_first_response(crm: Crm, sales_rep: uuid.UUID) -> None:
    headers = {**crm.headers("sales", sales_rep), "Idempotency-Key": "order-form-42"}
    body = {"kind": "company", "name": "Once Only"}
    first = await crm.client.post("/customers", json=body, headers=headers)
    second = await crm.client.post("/customers", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["etag"] == first.headers["etag"]
    assert len(await crm.events("crm.customer.created.v1")) == 1
    changed = await crm.client.post(
        "/customers", json={**body, "name": "Something else"}, headers=headers
    )
    assert changed.status_code == 422
    assert changed.json()["type"].endswith("idempotency-key-reused")
    assert await names(crm, headers, "") == ["Once Only"]
    # Keys belong to their user: another user's identical key is a new request.
    other_rep = await crm.hire("sales")
    other = await crm.client.post(
        "/customers?force=true",
        json=body,
        headers={**crm.headers("sales", other_rep), "Idempotency-Key": "order-form-42"},
    )
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]


async def test_a_refused_request_is_replayed_as_refused(crm: Crm) -> None:
    headers = {**crm.headers("support"), "Idempotency-Key": "k-1"}
    body = {"kind": "company", "name": "X"}
    assert (await crm.client.post("/customers", json=body, headers=headers)).status_code == 403
    replay = await crm.client.post("/customers", json=body, headers=headers)
    assert replay.status_code == 403
    assert replay.headers["idempotent-replayed"] == "true"
    assert await names(crm, crm.headers("admin"), "") == []
    assert await crm.events() == []
