"""Custom text values up to their documented 1000 characters: stored, echoed and
filterable on every database, however long their folded form."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api


async def define_motto(crm: Crm, headers: dict[str, str]) -> None:
    field = {"key": "motto", "label": "Motto", "type": "text"}
    assert (await crm.client.post("/custom-fields", json=field, headers=headers)).status_code == 201


async def names(crm: Crm, headers: dict[str, str], query: dict[str, Any]) -> list[str]:
    response = await crm.client.get("/customers", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


@pytest.mark.parametrize(
    "motto",
    ["x" * 1000, "ß" * 600, "Großartig " * 100],
    ids=["1000 characters", "folds longer", "words"],
)
async def test_a_long_custom_text_is_kept_and_found(crm: Crm, motto: str) -> None:
    headers = crm.headers("admin")
    await define_motto(crm, headers)
    body = {"kind": "company", "name": "Acme", "custom_fields": {"motto": motto}}

    created = await crm.client.post("/customers", json=body, headers=headers)

    assert created.status_code == 201, created.text
    assert created.json()["custom_fields"] == {"motto": motto}
    assert await names(crm, headers, {"cf.motto": motto}) == ["Acme"]
    assert await names(crm, headers, {"cf.motto": "other"}) == []


async def test_a_custom_text_changed_to_a_long_one_is_kept(crm: Crm) -> None:
    headers = crm.headers("admin")
    await define_motto(crm, headers)
    body = {"kind": "company", "name": "Acme", "custom_fields": {"motto": "short"}}
    created = (await crm.client.post("/customers", json=body, headers=headers)).json()
    motto = "Straße " * 140

    changed = await crm.client.patch(
        f"/customers/{created['id']}", json={"custom_fields": {"motto": motto}}, headers=headers
    )

    assert changed.status_code == 200, changed.text
    read = await crm.client.get(f"/customers/{created['id']}", headers=headers)
    assert read.json()["custom_fields"] == {"motto": motto}
    assert await names(crm, headers, {"cf.motto": motto}) == ["Acme"]
    assert await names(crm, headers, {"cf.motto": "short"}) == []


async def test_a_change_too_large_to_publish_is_422_and_changes_nothing(crm: Crm) -> None:
    headers = crm.headers("admin")
    keys = [f"note_{number}" for number in range(60)]
    for key in keys:
        field = {"key": key, "label": key, "type": "text"}
        defined = await crm.client.post("/custom-fields", json=field, headers=headers)
        assert defined.status_code == 201, defined.text
    first = dict.fromkeys(keys, "😀" * 1000)
    body = {"kind": "company", "name": "Acme", "custom_fields": first}
    created = await crm.client.post("/customers", json=body, headers=headers)
    assert created.status_code == 201, created.text

    # The update event carries the state, and each field before and after: too large.
    changed = await crm.client.patch(
        f"/customers/{created.json()['id']}",
        json={"custom_fields": dict.fromkeys(keys, "🙂" * 1000)},
        headers=headers,
    )

    assert changed.status_code == 422, changed.text
    assert changed.headers["content-type"].startswith("application/problem+json")
    assert changed.json()["errors"] == [
        {"field": "request", "message": "too large to publish as an event"}
    ]
    read = await crm.client.get(f"/customers/{created.json()['id']}", headers=headers)
    assert read.json() == created.json()
    assert await crm.events("crm.customer.updated.v1") == []


@pytest.mark.parametrize(
    "options", [["smb", "smb"], ["SMB", "smb"], ["Groß", "GROSS"]], ids=["same", "case", "fold"]
)
async def test_select_options_that_a_filter_cannot_tell_apart_are_refused(
    crm: Crm, options: list[str]
) -> None:
    headers = crm.headers("admin")
    field = {"key": "segment", "label": "Segment", "type": "select", "options": options}

    refused = await crm.client.post("/custom-fields", json=field, headers=headers)

    assert refused.status_code == 422, refused.text
    assert [error["field"] for error in refused.json()["errors"]] == ["options"]
    assert (await crm.client.get("/custom-fields", headers=headers)).json() == []


async def test_a_field_other_than_select_has_no_options_even_if_sent_empty(crm: Crm) -> None:
    headers = crm.headers("admin")
    field = {"key": "motto", "label": "Motto", "type": "text", "options": []}

    created = await crm.client.post("/custom-fields", json=field, headers=headers)

    assert created.status_code == 201, created.text
    assert created.json()["options"] is None
    assert [
        item["options"] for item in (await crm.client.get("/custom-fields", headers=headers)).json()
    ] == [None]


@pytest.mark.parametrize("value", [20261201, "20261201", "2026-W48-1", "2026-12-01T00:00"])
async def test_a_custom_date_is_a_text_in_yyyy_mm_dd(crm: Crm, value: object) -> None:
    headers = crm.headers("admin")
    field = {"key": "founded", "label": "Founded", "type": "date"}
    assert (await crm.client.post("/custom-fields", json=field, headers=headers)).status_code == 201
    body = {"kind": "company", "name": "Acme", "custom_fields": {"founded": value}}

    refused = await crm.client.post("/customers", json=body, headers=headers)
    filtered = await crm.client.get(
        "/customers", params={"cf.founded": str(value)}, headers=headers
    )

    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [
        {"field": "custom_fields.founded", "message": "must be a date (YYYY-MM-DD)"}
    ]
    assert filtered.status_code == 422, filtered.text
    assert (await crm.client.get("/customers", headers=headers)).json()["items"] == []
    kept = await crm.client.post(
        "/customers", json={**body, "custom_fields": {"founded": "2026-12-01"}}, headers=headers
    )
    assert kept.json()["custom_fields"] == {"founded": "2026-12-01"}
