"""Webhooks: whatever a receiver answers, the attempt is recorded in the delivery log and
the delivery goes on as its status says, the start of the answer shown as text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from tests.support.gateway_events import events_settings, gateway_events, product_created
from tests.support.webhook_receiver import answering_with, receiver

pytestmark = pytest.mark.api

SECRET = "whsec_a-receiver-secret"


@asynccontextmanager
async def answering(
    status: int, body: bytes, headers: dict[str, str] | None = None
) -> AsyncIterator[str]:
    """A receiver on 127.0.0.1 answering every delivery with this status, body and
    headers; yields its URL."""

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(
            status=status, body=body, headers=headers, content_type="application/octet-stream"
        )

    async with answering_with(answer) as url:
        yield url


@pytest.mark.parametrize(("status", "outcome"), [(200, "delivered"), (503, "pending")])
async def test_an_answer_with_nul_bytes_is_recorded(
    database_url: str, status: int, outcome: str
) -> None:
    async with (
        gateway_events(events_settings(database_url)) as hub,
        answering(status, b"ok\x00\x01binary\x00") as url,
    ):
        webhook = await hub.post(
            "/api/webhooks", {"url": url, "event_types": ["erp.product.*"], "secret": SECRET}
        )
        await hub.publish(product_created())
        assert await hub.dispatcher().deliver_due() == 1

        page = await hub.get(f"/api/webhooks/{webhook['id']}/deliveries")
        [logged] = page["items"]
        assert (logged["status"], logged["attempts"], logged["last_status_code"]) == (
            outcome,
            1,
            status,
        )
        assert logged["last_response"].startswith("ok")
        assert "binary" in logged["last_response"]


async def test_a_redirect_is_not_followed_and_counts_as_a_refusal(database_url: str) -> None:
    async with (
        gateway_events(events_settings(database_url)) as hub,
        receiver(SECRET) as elsewhere,
        answering(307, b"moved", {"Location": elsewhere.url}) as url,
    ):
        webhook = await hub.post(
            "/api/webhooks", {"url": url, "event_types": ["erp.product.*"], "secret": SECRET}
        )
        await hub.publish(product_created())
        assert await hub.dispatcher().deliver_due() == 1

        assert elsewhere.received == [], "the redirect was not followed"
        [logged] = (await hub.get(f"/api/webhooks/{webhook['id']}/deliveries"))["items"]
        assert (logged["status"], logged["attempts"], logged["last_status_code"]) == (
            "failed",
            1,
            307,
        )
        shown = await hub.get(f"/api/webhooks/{webhook['id']}")
        assert (shown["active"], shown["consecutive_failures"]) == (True, 1)


async def test_a_very_large_answer_is_logged_by_its_start(database_url: str) -> None:
    async with (
        gateway_events(events_settings(database_url)) as hub,
        answering(200, b"x" * 5_000_000) as url,
    ):
        webhook = await hub.post(
            "/api/webhooks", {"url": url, "event_types": ["erp.product.*"], "secret": SECRET}
        )
        await hub.publish(product_created())
        assert await hub.dispatcher().deliver_due() == 1

        [logged] = (await hub.get(f"/api/webhooks/{webhook['id']}/deliveries"))["items"]
        assert (logged["status"], logged["last_status_code"]) == ("delivered", 200)
        assert logged["last_response"] == "x" * 1_000
