"""Webhook secrets at rest: the database holds them only sealed, a key rotation keeps every
delivery signed while the periodic job moves the secrets to the new key, and a gateway
without the key that sealed a secret sends nothing rather than a wrong signature."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from gateway.adapters.events import WebhookSubscription
from gateway.config import Settings
from gateway.service.webhook_delivery import WebhookDispatcher
from gateway.service.webhook_secrets import secret_box_for
from tests.support.gateway_events import (
    GatewayEvents,
    events_settings,
    gateway_events,
    headers,
    product_created,
)
from tests.support.webhook_receiver import Receiver, receiver

pytestmark = pytest.mark.api

SECRET = "whsec_receiver-secret-kept-sealed"
OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
async def hooks() -> AsyncIterator[Receiver]:
    async with receiver(SECRET) as started:
        yield started


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[GatewayEvents]:
    async with gateway_events(events_settings(database_url, webhook_secret_keys=[OLD_KEY])) as hub:
        yield hub


def keys(hub: GatewayEvents, *keys: str) -> Settings:
    return events_settings(hub.settings.database_url, webhook_secret_keys=list(keys))


async def stored_secret(hub: GatewayEvents, webhook_id: str) -> str:
    async with hub.app.state.engine.connect() as connection:
        sealed = await connection.scalar(
            select(WebhookSubscription.sealed_secret).where(
                WebhookSubscription.id == uuid.UUID(webhook_id)
            )
        )
    assert isinstance(sealed, str)
    return sealed


async def subscribe(hub: GatewayEvents, url: str, secret: str | None = SECRET) -> dict[str, Any]:
    body = {"url": url, "event_types": ["erp.product.*"], "secret": secret}
    return await hub.post("/api/webhooks", {k: v for k, v in body.items() if v is not None})


async def test_the_database_holds_a_secret_only_sealed(hub: GatewayEvents, hooks: Receiver) -> None:
    given = await subscribe(hub, hooks.url)
    generated = await subscribe(hub, hooks.url, secret=None)
    assert given["secret"] == SECRET

    box = secret_box_for(hub.settings)
    for webhook in (given, generated):
        sealed = await stored_secret(hub, webhook["id"])
        assert webhook["secret"] not in sealed
        assert box.open(sealed) == webhook["secret"]
    async with hub.app.state.engine.connect() as connection:
        dump = "\n".join(str(row) for row in await connection.execute(select(WebhookSubscription)))
    assert SECRET not in dump
    assert generated["secret"] not in dump

    await hub.publish(product_created())
    assert await hub.dispatcher().deliver_due() == 2
    assert [d.signature_valid for d in hooks.received].count(True) == 1, "only the given secret"


async def test_after_a_key_rotation_deliveries_stay_signed_and_secrets_move_to_the_new_key(
    hub: GatewayEvents, hooks: Receiver
) -> None:
    webhook = await subscribe(hub, hooks.url)
    engine = hub.app.state.engine
    rotated = keys(hub, NEW_KEY, OLD_KEY)

    await hub.publish(product_created())
    assert await WebhookDispatcher(engine, rotated).deliver_due() == 1

    # The gateway's periodic jobs reseal; run them as a rotated replica would.
    async with gateway_events(rotated) as replica:
        runner = replica.app.state.workers.job_runner()
        later = datetime.now(UTC) + timedelta(seconds=1)
        assert "reseal-webhook-secrets" in await runner.run_due(later)
    sealed = await stored_secret(hub, webhook["id"])
    assert secret_box_for(keys(hub, NEW_KEY)).open(sealed) == SECRET, "the old key may go"

    await hub.publish(product_created())
    assert await WebhookDispatcher(engine, keys(hub, NEW_KEY)).deliver_due() == 1
    assert len(hooks.received) == 2
    assert all(delivery.signature_valid for delivery in hooks.received)


async def test_a_gateway_without_the_sealing_key_sends_nothing_and_retries_later(
    hub: GatewayEvents, hooks: Receiver
) -> None:
    webhook = await subscribe(hub, hooks.url)
    engine = hub.app.state.engine
    await hub.publish(product_created())

    stranger = keys(hub, Fernet.generate_key().decode())
    assert await WebhookDispatcher(engine, stranger).deliver_due() == 1
    assert hooks.received == [], "no delivery under a signature the receiver would refuse"
    [attempted] = (await hub.get(f"/api/webhooks/{webhook['id']}/deliveries"))["items"]
    assert attempted["status"] == "pending"
    assert attempted["last_error"] == "the subscription's secret cannot be opened"
    shown = await hub.get(f"/api/webhooks/{webhook['id']}")
    assert shown["active"] is True
    assert shown["consecutive_failures"] == 0, "not the receiver's fault"

    # With the key configured again, the retry goes out signed.
    later = datetime.now(UTC) + timedelta(hours=1)
    assert await hub.dispatcher().deliver_due(later) == 1
    assert [delivery.signature_valid for delivery in hooks.received] == [True]


async def test_a_retried_subscription_never_leaves_its_secret_in_the_idempotency_store(
    hub: GatewayEvents, hooks: Receiver
) -> None:
    keyed = {**headers("admin"), "Idempotency-Key": "subscribe-once"}
    body = {"url": hooks.url, "event_types": ["erp.product.*"]}
    first = await hub.client.post("/api/webhooks", json=body, headers=keyed)
    assert first.status_code == 201, first.text
    assert first.headers["cache-control"] == "no-store"
    secret = first.json()["secret"]

    # The retry does not subscribe again, and learns where the subscription is.
    retried = await hub.client.post("/api/webhooks", json=body, headers=keyed)
    assert retried.status_code == 409
    assert retried.headers["content-type"] == "application/problem+json"
    assert retried.headers["location"] == f"/api/webhooks/{first.json()['id']}"
    assert secret not in retried.text
    listed = await hub.get("/api/webhooks")
    assert [webhook["id"] for webhook in listed["items"]] == [first.json()["id"]]

    async with hub.app.state.engine.connect() as connection:
        stored = (await connection.execute(text("SELECT * FROM idempotency_keys"))).all()
    assert len(stored) == 1
    assert secret not in str(stored)
