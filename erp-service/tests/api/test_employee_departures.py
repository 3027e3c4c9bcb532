"""Terminating an employee who has not started yet: the hire is called off, ends on its
hire date, and its events go out like any other termination (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.erp import Erp

pytestmark = pytest.mark.api


async def test_a_hire_not_started_yet_is_called_off_on_its_hire_date(erp: Erp) -> None:
    starts_on = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    body = {"name": "Fiona Future", "email": "fiona@example.com", "role": "sales"}
    future = await erp.post("/employees", body | {"hired_on": starts_on}, role="hr")
    headers = erp.headers("hr")
    path = f"/employees/{future['id']}/terminate"

    today = datetime.now(UTC).date().isoformat()
    refused = await erp.client.post(path, json={"terminated_on": today}, headers=headers)
    assert refused.status_code == 422, refused.text
    assert [error["field"] for error in refused.json()["errors"]] == ["terminated_on"]
    assert starts_on in refused.json()["detail"]
    unchanged = await erp.client.get(f"/employees/{future['id']}", headers=headers)
    assert unchanged.json() == future
    assert await erp.events("erp.employee.terminated.v1") == []

    called_off = await erp.client.post(path, json={"reason": "Offer declined"}, headers=headers)

    assert called_off.status_code == 200, called_off.text
    left = called_off.json()
    assert (left["status"], left["terminated_on"]) == ("terminated", starts_on)
    assert left["termination_reason"] == "Offer declined"
    [event] = await erp.events("erp.employee.terminated.v1")
    assert event["data"]["terminated_on"] == starts_on


async def test_naming_the_hire_date_calls_a_future_hire_off_too(erp: Erp) -> None:
    starts_on = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    body = {"name": "Tom Tomorrow", "email": "tom@example.com", "role": "warehouse"}
    future = await erp.post("/employees", body | {"hired_on": starts_on}, role="hr")

    called_off = await erp.client.post(
        f"/employees/{future['id']}/terminate",
        json={"terminated_on": starts_on},
        headers=erp.headers("hr"),
    )

    assert called_off.status_code == 200, called_off.text
    assert (called_off.json()["status"], called_off.json()["terminated_on"]) == (
        "terminated",
        starts_on,
    )
    [event] = await erp.events("erp.employee.terminated.v1")
    assert (event["subject"], event["data"]["terminated_on"]) == (future["id"], starts_on)
