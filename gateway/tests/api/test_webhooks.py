"""Webhooks: subscriptions (admin only), signed deliveries to a receiver on 127.0.0.1,
retries with backoff on a controllable clock, 410 and repeated refusals disabling a
subscription, replay out of the event history, and targets that are not public refused
(also when DNS changes its answer after the subscription was saved)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.adapters import webhook_sender
from gateway.adapters.webhook_sender import TargetPolicy, WebhookSender
from gateway.service.history import prune_history
from shared_schemas.events.registry import event_types_of
from tests.support.gateway_events import (
    GatewayEvents,
    customer_created,
    events_settings,
    gateway_events,
    headers,
    product_created,
    stock_low,
)
from tests.support.webhook_receiver import Receiver, receiver

pytestmark = pytest.mark.api

SECRET = "whsec_test-secret-of-the-receiver"


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[GatewayEvents]:
    async with gateway_events(events_settings(database_url, webhook_disable_after=3)) as events:
        yield events


@pytest.fixture
async def hooks() -> AsyncIterator[Receiver]:
    async with receiver(SECRET) as started:
        yield started


async def subscribe(
    hub: GatewayEvents, url: str, types: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    body = {"url": url, "event_types": types or ["erp.product.*"], "secret": SECRET, **extra}
    return await hub.post("/api/webhooks", body)


async def deliveries(hub: GatewayEvents, webhook_id: str, **params: Any) -> list[dict[str, Any]]:
    page = await hub.get(f"/api/webhooks/{webhook_id}/deliveries", **params)
    return list(page["items"])


async def test_a_subscription_shows_its_secret_once_and_only_admins_manage_them(
    hub: GatewayEvents,
) -> None:
    body = {"url": "http://127.0.0.1:9/hooks", "event_types": ["erp.order.*", "crm.*"]}
    for role in ("sales", "warehouse", "finance"):
        refused = await hub.client.post("/api/webhooks", json=body, headers=headers(role))
        assert refused.status_code == 403, refused.text
        listed = await hub.client.get("/api/webhooks", headers=headers(role))
        assert listed.status_code == 403
    assert (await hub.client.get("/api/webhooks")).status_code == 401

    created = await hub.post("/api/webhooks", {**body, "description": "Partner"})
    assert created["secret"].startswith("whsec_")
    assert len(created["secret"]) > 30
    assert created["active"] is True
    assert created["created_by"] == "user-admin"
    assert created["event_types"] == ["erp.order.*", "crm.*"]

    shown = await hub.get(f"/api/webhooks/{created['id']}")
    assert "secret" not in shown
    assert shown == {k: v for k, v in created.items() if k != "secret"}
    page = await hub.get("/api/webhooks")
    # The refused requests above subscribed nobody: the one subscription is the admin's.
    assert page["items"] == [shown]
    missing = await hub.client.get(f"/api/webhooks/{uuid.uuid4()}", headers=headers("admin"))
    assert missing.status_code == 404


async def test_subscriptions_are_listed_newest_first_in_keyset_pages(hub: GatewayEvents) -> None:
    made = [await subscribe(hub, f"http://127.0.0.1:9/hooks/{n}") for n in range(3)]
    first = await hub.get("/api/webhooks", limit=2)
    assert [item["id"] for item in first["items"]] == [made[2]["id"], made[1]["id"]]
    assert first["next_cursor"]
    second = await hub.get("/api/webhooks", limit=2, cursor=first["next_cursor"])
    assert [item["id"] for item in second["items"]] == [made[0]["id"]]
    assert second["next_cursor"] is None
    too_many = await hub.client.get("/api/webhooks?limit=201", headers=headers("admin"))
    assert too_many.status_code == 422


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://100.64.0.1/hooks",
        "http://192.0.0.8/hooks",
        "http://[fec0::1]/hooks",
        "http://[::ffff:192.0.0.8]/hooks",
        "http://0.0.0.0/hooks",
        "http://localhost:8080/hooks",
        "http://127.1/hooks",
        "ftp://198.51.100.7/hooks",
        "http://user:pw@203.0.113.9/hooks",
        # Port 0 is no port anything listens on: every delivery would fail to connect.
        "http://93.184.216.34:0/hooks",
        "not a url",
    ],
)
async def test_targets_that_are_not_public_or_not_http_are_refused(
    hub: GatewayEvents, url: str
) -> None:
    response = await hub.client.post(
        "/api/webhooks",
        json={"url": url, "event_types": ["erp.product.*"]},
        headers=headers("admin"),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == ["url"]
    assert (await hub.get("/api/webhooks"))["items"] == [], "nothing was subscribed"


async def test_a_name_resolving_to_a_private_address_is_refused_unless_allowed(
    hub: GatewayEvents, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def lookup(host: str, port: int) -> list[str]:
        return {"intranet.example": ["93.184.216.34", "10.1.2.3"], "hooks.example": ["8.8.8.8"]}[
            host
        ]

    monkeypatch.setattr(webhook_sender, "resolve_host", lookup)
    body: dict[str, Any] = {"event_types": ["erp.product.*"]}
    refused = await hub.client.post(
        "/api/webhooks",
        json={**body, "url": "https://intranet.example/hooks"},
        headers=headers("admin"),
    )
    assert refused.status_code == 422
    assert "10.1.2.3" in refused.json()["detail"], "every address counts, not only the first"
    await hub.post("/api/webhooks", {**body, "url": "https://hooks.example/hooks"})
    # The receiver the tests use is allowed by the settings although it is loopback.
    await hub.post("/api/webhooks", {**body, "url": "http://127.0.0.1:9/hooks"})
    listed = await hub.get("/api/webhooks")
    assert [item["url"] for item in listed["items"]] == [
        "http://127.0.0.1:9/hooks",
        "https://hooks.example/hooks",
    ], "the refused one was not subscribed"


async def test_unknown_event_types_are_refused(hub: GatewayEvents) -> None:
    response = await hub.client.post(
        "/api/webhooks",
        json={"url": "http://127.0.0.1:9/", "event_types": ["erp.order.*", "erp.nothing.*"]},
        headers=headers("admin"),
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "event_types", "message": "no event type matches 'erp.nothing.*'"}
    ]
    assert (await hub.get("/api/webhooks"))["items"] == [], "nothing was subscribed"


async def test_a_matching_event_is_delivered_signed_and_logged(
    hub: GatewayEvents, hooks: Receiver
) -> None:
    webhook = await subscribe(hub, hooks.url, ["erp.product.*", "erp.stock.low.v1"])
    product = await hub.publish(product_created())
    await hub.publish(customer_created(), source="crm-service")  # not subscribed
    low = await hub.publish(stock_low())

    assert await hub.dispatcher().deliver_due() == 2
    assert sorted(d.webhook_id for d in hooks.received) == sorted([str(product.id), str(low.id)])
    hooks.received.sort(key=lambda d: d.event["type"])
    for delivery in hooks.received:
        assert delivery.signature_valid, delivery
        assert delivery.timestamp_fresh, delivery
        assert delivery.content_type.startswith("application/cloudevents+json")
    first = hooks.received[0].event
    assert (first["id"], first["type"], first["subject"]) == (
        str(product.id),
        "erp.product.created.v1",
        product.subject,
    )
    assert first["data"]["sku"] == product.data.sku

    log = await deliveries(hub, webhook["id"])
    assert [(d["event_type"], d["status"], d["attempts"]) for d in log] == [
        ("erp.stock.low.v1", "delivered", 1),
        ("erp.product.created.v1", "delivered", 1),
    ]
    assert log[0]["last_status_code"] == 200
    assert log[0]["last_response"] == "answered 200"
    assert log[0]["finished_at"] is not None
    assert log[0]["next_attempt_at"] is None
    assert await hub.dispatcher().deliver_due() == 0, "nothing is sent twice"


async def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(
    hub: GatewayEvents, hooks: Receiver
) -> None:
    webhook = await subscribe(hub, hooks.url)
    event = await hub.publish(product_created())
    hooks.answer(503, 500)
    dispatcher = hub.dispatcher()
    start = datetime.now(UTC)

    assert await dispatcher.deliver_due(start) == 1
    [waiting] = await deliveries(hub, webhook["id"])
    assert (waiting["status"], waiting["attempts"], waiting["last_status_code"]) == (
        "pending",
        1,
        503,
    )
    retry_at = datetime.fromisoformat(waiting["next_attempt_at"])
    assert start < retry_at <= start + timedelta(seconds=10)
    assert await dispatcher.deliver_due(start) == 0, "not due before its backoff"

    assert await dispatcher.deliver_due(start + timedelta(hours=1)) == 1
    [waiting] = await deliveries(hub, webhook["id"])
    assert (waiting["status"], waiting["attempts"], waiting["last_status_code"]) == (
        "pending",
        2,
        500,
    )
    assert await dispatcher.deliver_due(start + timedelta(hours=2)) == 1
    [done] = await deliveries(hub, webhook["id"])
    assert (done["status"], done["attempts"], done["last_status_code"]) == ("delivered", 3, 200)
    assert [d.webhook_id for d in hooks.received] == [str(event.id)] * 3
    assert all(d.signature_valid for d in hooks.received)
    shown = await hub.get(f"/api/webhooks/{webhook['id']}")
    assert shown["active"] is True
    assert shown["consecutive_failures"] == 0


async def test_a_delivery_is_retried_for_the_whole_window_then_dead(
    hub: GatewayEvents, hooks: Receiver
) -> None:
    webhook = await subscribe(hub, hooks.url)
    await hub.publish(product_created())
    hooks.answer(*[502] * 10)
    dispatcher = hub.dispatcher()
    window = timedelta(hours=hub.settings.webhook_retry_hours)
    assert window >= timedelta(hours=24)
    start = datetime.now(UTC)

    assert await dispatcher.deliver_due(start) == 1
    assert await dispatcher.deliver_due(start + window - timedelta(minutes=30)) == 1
    [waiting] = await deliveries(hub, webhook["id"])
    assert waiting["status"] == "pending"
    queued = datetime.fromisoformat(waiting["created_at"])
    assert datetime.fromisoformat(waiting["next_attempt_at"]) <= queued + window

    assert await dispatcher.deliver_due(start + window + timedelta(minutes=1)) == 1
    [dead] = await deliveries(hub, webhook["id"])
    assert (dead["status"], dead["attempts"], dead["next_attempt_at"]) == ("dead", 3, None)
    assert (await hub.get(f"/api/webhooks/{webhook['id']}"))["active"] is True, (
        "failures that may heal never disable a subscription"
    )


async def test_a_410_disables_the_subscription_at_once(hub: GatewayEvents, hooks: Receiver) -> None:
    webhook = await subscribe(hub, hooks.url)
    await hub.publish(product_created())
    hooks.answer(410)
    assert await hub.dispatcher().deliver_due() == 1

    shown = await hub.get(f"/api/webhooks/{webhook['id']}")
    assert shown["active"] is False
    assert "410" in shown["disabled_reason"]
    assert shown["version"] == 2
    [gone] = await deliveries(hub, webhook["id"])
    assert (gone["status"], gone["last_status_code"]) == ("failed", 410)

    await hub.publish(product_created())
    assert len(await deliveries(hub, webhook["id"])) == 1, "no deliveries while disabled"
    assert await hub.dispatcher().deliver_due() == 0
    assert len(hooks.received) == 1
    replay = await hub.client.post(
        f"/api/webhooks/{webhook['id']}/replay",
        json={"since": "2000-01-01T00:00:00Z"},
        headers=headers("admin"),
    )
    assert replay.status_code == 409
    # A time is written with its zone; a number is no time (it was read as one in 1970).
    for since in (0, "1700000000", "2026-11-30T08:00:00"):
        refused = await hub.client.post(
            f"/api/webhooks/{webhook['id']}/replay", json={"since": since}, headers=headers("admin")
        )
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["since"]


async def test_a_410_stops_the_deliveries_of_the_batch_not_sent_yet(
    hub: GatewayEvents, hooks: Receiver
) -> None:
    webhook = await subscribe(hub, hooks.url)
    for _ in range(3):
        await hub.publish(product_created())
    hooks.answer(410)
    # One at a time: the 410 comes while the batch's other deliveries wait their turn.
    assert await hub.dispatcher(concurrency=1).deliver_due() == 3

    assert len(hooks.received) == 1, "nothing more goes to a receiver that answered 410"
    assert (await hub.get(f"/api/webhooks/{webhook['id']}"))["active"] is False
    log = await deliveries(hub, webhook["id"])
    assert sorted((d["status"], d["attempts"], d["last_status_code"]) for d in log) == [
        ("failed", 0, None),
        ("failed", 0, None),
        ("failed", 1, 410),
    ]


async def test_repeated_permanent_refusals_disable_a_subscription_a_success_resets_them(
    hub: GatewayEvents, hooks: Receiver
) -> None:
    assert hub.settings.webhook_disable_after == 3
    webhook = await subscribe(hub, hooks.url)
    dispatcher = hub.dispatcher()

    async def one_delivery(status: int) -> dict[str, Any]:
        hooks.answer(status)
        await hub.publish(product_created())
        assert await dispatcher.deliver_due() == 1
        return await hub.get(f"/api/webhooks/{webhook['id']}")

    assert (await one_delivery(400))["consecutive_failures"] == 1
    assert (await one_delivery(404))["consecutive_failures"] == 2
    assert (await one_delivery(200))["consecutive_failures"] == 0
    assert (await one_delivery(422))["consecutive_failures"] == 1
    assert (await one_delivery(401))["consecutive_failures"] == 2
    assert (await one_delivery(200))["consecutive_failures"] == 0
    assert (await one_delivery(400))["active"] is True
    assert (await one_delivery(409))["active"] is True
    shown = await one_delivery(403)
    assert (shown["active"], shown["consecutive_failures"]) == (False, 3)
    assert shown["disabled_reason"] == "3 permanent failures in a row, the last: HTTP 403"
    statuses = [d["status"] for d in await deliveries(hub, webhook["id"])]
    assert statuses.count("failed") == 7
    assert statuses.count("delivered") == 2

    await hub.publish(product_created())
    assert len(await deliveries(hub, webhook["id"])) == 9, "no deliveries while disabled"

    enabled = await hub.client.patch(
        f"/api/webhooks/{webhook['id']}", json={"active": True}, headers=headers("admin")
    )
    assert enabled.status_code == 200, enabled.text
    again = enabled.json()
    assert (again["active"], again["consecutive_failures"], again["disabled_reason"]) == (
        True,
        0,
        None,
    )


async def test_timeouts_408_429_and_5xx_are_retried_without_counting_against_the_target(
    hub: GatewayEvents, hooks: Receiver
) -> None:
    webhook = await subscribe(hub, hooks.url)
    hooks.answer(408, 429, 500, 503)
    for _ in range(4):
        await hub.publish(product_created())
    assert await hub.dispatcher().deliver_due() == 4
    log = await deliveries(hub, webhook["id"])
    assert sorted(d["last_status_code"] for d in log) == [408, 429, 500, 503]
    assert {(d["status"], d["attempts"]) for d in log} == {("pending", 1)}
    shown = await hub.get(f"/api/webhooks/{webhook['id']}")
    assert (shown["active"], shown["consecutive_failures"]) == (True, 0)


async def test_a_receiver_that_does_not_answer_in_time_is_retried(
    database_url: str, hooks: Receiver
) -> None:
    settings = events_settings(database_url, webhook_timeout_seconds=0.2)
    async with gateway_events(settings) as hub:
        webhook = await subscribe(hub, hooks.url)
        await hub.publish(product_created())
        hooks.delay = 2.0
        assert await hub.dispatcher().deliver_due() == 1
        [waiting] = await deliveries(hub, webhook["id"])
        assert (waiting["status"], waiting["last_status_code"]) == ("pending", None)
        assert waiting["last_error"] == "no answer within 0.2s"


async def test_replay_redelivers_what_was_received_since_a_point_in_time(
    hub: GatewayEvents, hooks: Receiver
) -> None:
    webhook = await subscribe(hub, hooks.url, ["erp.product.*"])
    before = await hub.publish(product_created())
    dispatcher = hub.dispatcher()
    assert await dispatcher.deliver_due() == 1
    since = datetime.now(UTC)
    after = [await hub.publish(product_created()) for _ in range(2)]
    await hub.publish(stock_low())  # received since, but not subscribed
    assert await dispatcher.deliver_due() == 2
    hooks.received.clear()

    replay = await hub.post(f"/api/webhooks/{webhook['id']}/replay", {"since": since.isoformat()})
    assert replay["queued"] == 2
    # The answer says from when the history holds events: a `since` before it could only
    # replay from there.
    history_from = datetime.fromisoformat(replay["history_from"])
    assert history_from.tzinfo is not None
    assert since - timedelta(minutes=5) < history_from <= since
    assert await dispatcher.deliver_due() == 2
    assert sorted(d.webhook_id for d in hooks.received) == sorted(str(e.id) for e in after)
    assert str(before.id) not in {d.webhook_id for d in hooks.received}
    assert all(d.signature_valid for d in hooks.received)

    log = await deliveries(hub, webhook["id"])
    assert len(log) == 5, "a replay adds deliveries; the first ones stay in the log"
    assert {d["status"] for d in log} == {"delivered"}
    only_delivered = await deliveries(hub, webhook["id"], status="delivered", limit=2)
    assert len(only_delivered) == 2

    # A replay while deliveries are still pending does not queue them twice.
    hooks.answer(503, 503)
    assert (await hub.post(f"/api/webhooks/{webhook['id']}/replay", {"since": since.isoformat()}))[
        "queued"
    ] == 2
    await dispatcher.deliver_due()
    again = await hub.post(f"/api/webhooks/{webhook['id']}/replay", {"since": since.isoformat()})
    assert (again["queued"], again["history_from"]) == (0, replay["history_from"])


async def test_a_name_rebound_to_a_private_address_after_saving_is_refused_at_delivery(
    hub: GatewayEvents, hooks: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {"hooks.rebind.example": ["93.184.216.34"]}

    async def lookup(host: str, port: int) -> list[str]:
        return answers[host]

    monkeypatch.setattr(webhook_sender, "resolve_host", lookup)
    port = hooks.url.split(":")[2].split("/")[0]
    webhook = await subscribe(hub, f"http://hooks.rebind.example:{port}/hooks")
    answers["hooks.rebind.example"] = ["127.0.0.1"]
    await hub.publish(product_created())

    assert await hub.dispatcher().deliver_due() == 1
    [refused] = await deliveries(hub, webhook["id"])
    assert refused["status"] == "failed"
    assert "non-public address (127.0.0.1)" in refused["last_error"]
    assert hooks.received == [], "nothing reached the private address"
    shown = await hub.get(f"/api/webhooks/{webhook['id']}")
    assert shown["consecutive_failures"] == 1


async def test_an_address_in_shorthand_or_numeric_form_is_checked_at_delivery_too() -> None:
    # Such hosts are addresses to the HTTP client (it asks no resolver): the sender checks
    # them itself, like any literal address.
    async with WebhookSender(TargetPolicy([]), timeout_seconds=2) as sender:
        for url in ("http://127.1:9/hooks", "http://2130706433:9/hooks", "http://0x7f.1:9/"):
            answer = await sender.post(url, b"{}", {})
            assert answer.target_refused, answer
            assert "127.0.0.1" in (answer.error or ""), answer


async def test_a_subscription_is_changed_disabled_enabled_and_deleted(
    hub: GatewayEvents, hooks: Receiver
) -> None:
    webhook = await subscribe(hub, "http://127.0.0.1:9/old")
    del webhook["secret"]
    path = f"/api/webhooks/{webhook['id']}"
    admin = headers("admin")

    stale = await hub.client.patch(
        path, json={"url": hooks.url, "active": False}, headers={**admin, "If-Match": '"7"'}
    )
    assert stale.status_code == 412
    private = await hub.client.patch(
        path, json={"url": "http://10.0.0.1/", "active": False}, headers=admin
    )
    assert private.status_code == 422
    unknown = await hub.client.patch(
        path, json={"event_types": ["erp.nothing.*"], "active": False}, headers=admin
    )
    assert unknown.status_code == 422
    for field in ("url", "event_types", "active"):
        # A subscription always has them: null is refused, not taken for "leave as is".
        cleared = await hub.client.patch(
            path, json={"description": "renamed", field: None}, headers=admin
        )
        assert cleared.status_code == 422, (field, cleared.text)
        assert cleared.json()["errors"] == [{"field": field, "message": "may not be null"}]
    assert await hub.get(path) == webhook, "a refused change changes nothing"
    changed = await hub.client.patch(
        path,
        json={"url": hooks.url, "event_types": ["erp.stock.*"], "description": None},
        headers={**admin, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"2"'
    assert (changed.json()["url"], changed.json()["event_types"]) == (hooks.url, ["erp.stock.*"])

    await hub.publish(stock_low())
    paused = await hub.client.patch(path, json={"active": False}, headers=admin)
    assert paused.status_code == 200, paused.text
    assert paused.json()["active"] is False
    assert paused.json()["disabled_reason"] == "disabled through the API"
    [failed] = await deliveries(hub, webhook["id"])
    assert failed["status"] == "failed"
    assert "disabled" in failed["last_error"]
    assert await hub.dispatcher().deliver_due() == 0

    resumed = await hub.client.patch(path, json={"active": True}, headers=admin)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["active"] is True
    await hub.publish(stock_low())
    assert await hub.dispatcher().deliver_due() == 1
    assert len(hooks.received) == 1

    assert (await hub.client.delete(path, headers=headers("sales"))).status_code == 403
    assert (await hub.get(path))["id"] == webhook["id"], "the refused delete left it"
    assert (await hub.client.delete(path, headers=admin)).status_code == 204
    assert (await hub.client.get(path, headers=admin)).status_code == 404
    gone = await hub.client.get(f"{path}/deliveries", headers=admin)
    assert gone.status_code == 404


async def test_the_backlog_of_pending_deliveries_is_a_gauge_on_metrics(
    hub: GatewayEvents, hooks: Receiver
) -> None:
    await subscribe(hub, hooks.url, ["erp.*"])
    for _ in range(2):
        await hub.publish(product_created())
    await hub.publish(stock_low())

    async def backlog() -> float:
        text = (await hub.client.get("/metrics")).text
        [line] = [line for line in text.splitlines() if line.startswith("gateway_webhook_backlog ")]
        return float(line.split()[1])

    assert await backlog() == 3.0
    await hub.dispatcher().run()
    assert await backlog() == 0.0


def test_the_catalogue_has_the_types_these_tests_subscribe_to() -> None:
    assert "erp.stock.low.v1" in event_types_of("erp.stock")


async def test_the_delivery_job_runs_once_across_replicas(
    hub: GatewayEvents, hooks: Receiver
) -> None:
    await subscribe(hub, hooks.url)
    event = await hub.publish(product_created())
    replicas = [hub.app.state.workers.job_runner() for _ in range(2)]
    assert {"deliver-webhooks", "prune-event-history"} <= {job.name for job in replicas[0].jobs}

    now = datetime.now(UTC) + timedelta(seconds=1)
    ran = [await replica.run_due(now) for replica in replicas]
    assert ["deliver-webhooks" in names for names in ran] == [True, False]
    assert [d.webhook_id for d in hooks.received] == [str(event.id)]


async def test_the_history_is_pruned_but_an_event_still_being_delivered_is_kept(
    hub: GatewayEvents, hooks: Receiver
) -> None:
    webhook = await subscribe(hub, hooks.url, ["erp.stock.*"])
    await hub.publish(product_created())
    await hub.publish(stock_low())  # its delivery stays pending: nothing is sent here
    keep = timedelta(days=hub.settings.event_history_days)
    engine = hub.app.state.engine

    assert await prune_history(engine, keep) == 0, "nothing is old yet"
    later = datetime.now(UTC) + keep + timedelta(minutes=1)
    assert await prune_history(engine, keep, later) == 1
    [pending] = await deliveries(hub, webhook["id"])
    assert pending["status"] == "pending"

    hooks.answer(404)
    assert await hub.dispatcher().deliver_due() == 1
    assert await prune_history(engine, keep, later) == 1
    assert await deliveries(hub, webhook["id"]) == [], "the log goes with its events"
