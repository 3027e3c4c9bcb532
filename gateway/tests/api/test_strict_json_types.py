"""Yes/no values in a request body are taken only as a JSON boolean: `"yes"`, `"false"`,
`1` and `0` do not disable a user or pause a webhook. Anything else is a 422 naming the
field and nothing changes; the same words in a query string are still read as such."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.gateway import Gateway
from tests.support.gateway_events import GatewayEvents, events_settings, gateway_events, headers
from tests.support.gateway_identity import PASSWORD, create_user, sign_in

pytestmark = [pytest.mark.api, pytest.mark.security]

NOT_BOOLEANS: tuple[Any, ...] = ("yes", "true", "false", 1, 0, 1.0)


def assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [field]


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[GatewayEvents]:
    async with gateway_events(events_settings(database_url)) as events:
        yield events


async def test_a_user_is_disabled_with_true_only(gateway: Gateway) -> None:
    await create_user(gateway, "keeper", roles=["admin"])
    user = await create_user(gateway, "jana")
    admin = gateway.headers("admin")
    path = f"/auth/users/{user['id']}"
    for value in NOT_BOOLEANS:
        response = await gateway.client.patch(path, json={"disabled": value}, headers=admin)
        assert_refused(response, "disabled")
    assert (await gateway.client.get(path, headers=admin)).json() == user
    assert (await sign_in(gateway.client, "jana", PASSWORD)).status_code == 200

    disabled = await gateway.client.patch(path, json={"disabled": True}, headers=admin)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled"] is True
    listed = await gateway.client.get("/auth/users", params={"disabled": "true"}, headers=admin)
    assert [found["username"] for found in listed.json()["items"]] == ["jana"]


async def test_a_webhook_is_paused_with_false_only(hub: GatewayEvents) -> None:
    webhook = await hub.post(
        "/api/webhooks", {"url": "http://127.0.0.1:9/hooks", "event_types": ["erp.product.*"]}
    )
    del webhook["secret"]
    path = f"/api/webhooks/{webhook['id']}"
    admin = headers("admin")
    for value in NOT_BOOLEANS:
        response = await hub.client.patch(path, json={"active": value}, headers=admin)
        assert_refused(response, "active")
    assert await hub.get(path) == webhook

    paused = await hub.client.patch(path, json={"active": False}, headers=admin)
    assert paused.status_code == 200, paused.text
    assert paused.json()["active"] is False
    paused_ones = await hub.get("/api/webhooks", active="false")
    assert [found["id"] for found in paused_ones["items"]] == [webhook["id"]]
