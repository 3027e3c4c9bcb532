"""Webhooks: a receiver's `Retry-After` is honoured in whole seconds up to an hour; a
value that is no such number (a date, other digits, more digits than a number has) is
ignored, and never stops the delivery from being recorded and retried. An attempt that
goes wrong inside the gateway is recorded and retried the same way, and the batch's
other deliveries go on, also when one outcome cannot be written."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from gateway.adapters.webhook_sender import Answer, WebhookSender
from gateway.service.webhook_delivery import Claimed, WebhookDispatcher
from tests.support.gateway_events import events_settings, gateway_events, product_created
from tests.support.webhook_receiver import answering_with, receiver

pytestmark = pytest.mark.api


@asynccontextmanager
async def busy_receiver(retry_after: bytes) -> AsyncIterator[str]:
    """A receiver on 127.0.0.1 answering 429 with this `Retry-After` (raw bytes, as a
    careless server may send them); yields its URL."""

    async def answer(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(status=429)
        response.headers["Retry-After"] = retry_after.decode("utf-8", "surrogateescape")
        return response

    async with answering_with(answer) as url:
        yield url


@pytest.mark.parametrize(
    ("retry_after", "earliest", "latest"),
    [
        (b"120", timedelta(seconds=120), timedelta(seconds=120)),
        # Longer than the longest wait between attempts: an hour.
        (b"9" * 30, timedelta(hours=1), timedelta(hours=1)),
        (b"9" * 5000, timedelta(hours=1), timedelta(hours=1)),
        # No number of seconds: the usual backoff (the first wait is at most 10 s).
        ("\u00b2".encode(), timedelta(seconds=1), timedelta(seconds=10)),
        ("\u0661\u0662\u0660".encode(), timedelta(seconds=1), timedelta(seconds=10)),
        (b"Wed, 21 Oct 2099 07:28:00 GMT", timedelta(seconds=1), timedelta(seconds=10)),
    ],
    ids=["seconds", "beyond-an-hour", "more-digits-than-a-number", "superscript", "arabic", "date"],
)
async def test_a_receiver_s_retry_after_sets_the_next_attempt(
    database_url: str, retry_after: bytes, earliest: timedelta, latest: timedelta
) -> None:
    async with (
        gateway_events(events_settings(database_url)) as hub,
        busy_receiver(retry_after) as url,
    ):
        webhook = await hub.post(
            "/api/webhooks",
            {"url": url, "event_types": ["erp.product.*"], "secret": "whsec_a-receiver-secret"},
        )
        await hub.publish(product_created())
        start = datetime.now(UTC)
        assert await hub.dispatcher().deliver_due(start) == 1

        page = await hub.get(f"/api/webhooks/{webhook['id']}/deliveries")
        [waiting] = page["items"]
        assert (waiting["status"], waiting["attempts"], waiting["last_status_code"]) == (
            "pending",
            1,
            429,
        )
        retry_at = datetime.fromisoformat(waiting["next_attempt_at"])
        assert start + earliest <= retry_at <= start + latest


async def test_an_attempt_that_fails_inside_the_gateway_is_recorded_and_retried(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    post = WebhookSender.post

    async def fails_for_one_target(
        sender: WebhookSender, url: str, body: bytes, headers: Mapping[str, str]
    ) -> Answer:
        if url.endswith("/broken"):
            raise RuntimeError("a fault of the gateway's")
        return await post(sender, url, body, headers)

    monkeypatch.setattr(WebhookSender, "post", fails_for_one_target)
    secret = "whsec_a-receiver-secret"
    async with (
        gateway_events(events_settings(database_url)) as hub,
        receiver(secret) as healthy,
        receiver(secret, path="/broken") as broken,
    ):
        hooks = {}
        for name, target in (("healthy", healthy), ("broken", broken)):
            hooks[name] = await hub.post(
                "/api/webhooks",
                {"url": target.url, "event_types": ["erp.product.*"], "secret": secret},
            )
        await hub.publish(product_created())
        start = datetime.now(UTC)
        assert await hub.dispatcher().deliver_due(start) == 2

        assert len(healthy.received) == 1
        assert broken.received == []
        page = await hub.get(f"/api/webhooks/{hooks['broken']['id']}/deliveries")
        [waiting] = page["items"]
        assert (waiting["status"], waiting["attempts"]) == ("pending", 1)
        assert waiting["last_error"] == "the gateway failed: RuntimeError"
        assert datetime.fromisoformat(waiting["next_attempt_at"]) > start


async def test_an_outcome_that_cannot_be_recorded_leaves_the_batch_s_other_deliveries_alone(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = WebhookDispatcher._record

    async def fails_for_one_target(
        dispatcher: WebhookDispatcher, delivery: Claimed, answer: Answer, now: datetime
    ) -> None:
        if delivery.url.endswith("/broken"):
            raise RuntimeError("the database refused the write")
        await record(dispatcher, delivery, answer, now)

    monkeypatch.setattr(WebhookDispatcher, "_record", fails_for_one_target)
    secret = "whsec_a-receiver-secret"
    async with (
        gateway_events(events_settings(database_url)) as hub,
        receiver(secret) as slow,
        receiver(secret, path="/broken") as broken,
    ):
        slow.delay = 0.5  # still answering when the other outcome fails to be written
        hooks = {}
        for name, target in (("slow", slow), ("broken", broken)):
            hooks[name] = await hub.post(
                "/api/webhooks",
                {"url": target.url, "event_types": ["erp.product.*"], "secret": secret},
            )
        await hub.publish(product_created())
        start = datetime.now(UTC)
        assert await hub.dispatcher().deliver_due(start) == 2

        page = await hub.get(f"/api/webhooks/{hooks['slow']['id']}/deliveries")
        [delivered] = page["items"]
        assert (delivered["status"], delivered["attempts"]) == ("delivered", 1)
        page = await hub.get(f"/api/webhooks/{hooks['broken']['id']}/deliveries")
        [unrecorded] = page["items"]
        assert (unrecorded["status"], unrecorded["attempts"]) == ("pending", 0)
        assert datetime.fromisoformat(unrecorded["next_attempt_at"]) > start, (
            "leased: tried again once the lease ends"
        )
