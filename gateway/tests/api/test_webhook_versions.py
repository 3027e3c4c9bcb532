"""A subscription's `version` (and `ETag`) counts changes: a PATCH that sends what the
subscription already holds changes nothing, so another admin's `If-Match` still holds,
and one PATCH is one version whatever it changes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.gateway_events import GatewayEvents, events_settings, gateway_events, headers

pytestmark = pytest.mark.api

URL = "http://127.0.0.1:9/hooks"


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[GatewayEvents]:
    async with gateway_events(events_settings(database_url)) as events:
        yield events


async def test_sending_what_a_subscription_holds_is_no_change(hub: GatewayEvents) -> None:
    created = await hub.post(
        "/api/webhooks",
        {"url": URL, "event_types": ["erp.order.*", "crm.*"], "description": "Partner"},
    )
    del created["secret"]
    path = f"/api/webhooks/{created['id']}"
    same = {"url": URL, "event_types": ["erp.order.*", "crm.*"], "description": "Partner"}
    for body in (same, {"active": True}, {"event_types": ["erp.order.*", "crm.*", "crm.*"]}):
        answer = await hub.client.patch(
            path, json=body, headers={**headers("admin"), "If-Match": '"1"'}
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["ETag"] == '"1"', body
        assert answer.json() == created, body
    assert await hub.get(path) == created


async def test_one_change_is_one_version(hub: GatewayEvents) -> None:
    created = await hub.post("/api/webhooks", {"url": URL, "event_types": ["erp.order.*"]})
    path = f"/api/webhooks/{created['id']}"
    paused = await hub.client.patch(
        path,
        json={"description": "paused for maintenance", "active": False},
        headers={**headers("admin"), "If-Match": '"1"'},
    )
    assert paused.status_code == 200, paused.text
    assert paused.headers["ETag"] == '"2"'
    assert (paused.json()["version"], paused.json()["active"]) == (2, False)
    renamed = await hub.client.patch(
        path, json={"description": "renamed"}, headers={**headers("admin"), "If-Match": '"2"'}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["version"] == 3
