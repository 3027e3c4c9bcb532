"""The gateway's consumer against the real broker: business events put on their topics are
recorded once in its history, reach the live stream (resumed after a disconnect without
repeats or gaps) and the webhooks that want them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from gateway.main import create_app
from gateway.service.webhook_delivery import WebhookDispatcher
from shared_schemas.broker import EmbeddedBroker
from shared_schemas.events.base import CloudEvent
from shared_schemas.events.erp.employees import EmployeeHired
from shared_schemas.events.erp.products import ProductCreated, ProductUpdated
from shared_schemas.messaging import KafkaSettings
from shared_schemas.roles import Role
from tests.support.gateway_events import (
    event_stream,
    events_settings,
    headers,
    product_created,
    served,
    stock_low,
)
from tests.support.harness import LiveWorkers, live_consumer, migrate
from tests.support.kafka_tools import PeerOnTheBroker, until
from tests.support.webhook_receiver import Receiver, receiver

pytestmark = pytest.mark.integration

SECRET = "whsec_integration-receiver-secret"


@dataclass(frozen=True)
class LiveGateway:
    live: LiveWorkers
    base_url: str
    hooks: Receiver
    webhook_id: str
    dispatcher: WebhookDispatcher

    @property
    def erp(self) -> PeerOnTheBroker:
        return self.live.peer

    async def deliveries(self) -> list[dict[str, Any]]:
        response = await self.live.client.get(
            f"/api/webhooks/{self.webhook_id}/deliveries", headers=headers("admin")
        )
        assert response.status_code == 200, response.text
        return list(response.json()["items"])


@pytest.fixture(scope="module")
async def gateway(module_database: str, broker: EmbeddedBroker) -> AsyncIterator[LiveGateway]:
    """One consumer per backend for the module (joining a group costs seconds); every test
    works on events of its own."""
    kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, session_timeout_ms=6_000)
    settings = events_settings(module_database)
    await migrate("gateway", module_database)
    app = create_app(settings)
    async with (
        receiver(SECRET) as hooks,
        live_consumer(app, kafka, peer="erp-service") as live,
        served(app) as base_url,
    ):
        created = await live.client.post(
            "/api/webhooks",
            json={"url": hooks.url, "event_types": ["erp.stock.*"], "secret": SECRET},
            headers=headers("admin"),
        )
        assert created.status_code == 201, created.text
        dispatcher = WebhookDispatcher(app.state.engine, settings)
        yield LiveGateway(live, base_url, hooks, created.json()["id"], dispatcher)


def versions_of_one_product(count: int) -> list[ProductCreated | ProductUpdated]:
    """Events of one product (one key, so one partition: they arrive in this order)."""
    created = product_created()
    return [created] + [
        ProductUpdated(**{**created.model_dump(), "version": version, "name": f"v{version}"})
        for version in range(2, count + 1)
    ]


async def test_an_event_on_the_broker_reaches_the_live_stream_once(gateway: LiveGateway) -> None:
    created, updated = versions_of_one_product(2)
    async with event_stream(gateway.base_url, "warehouse") as stream:
        product = await gateway.erp.publish(created)
        message = await stream.next_event()
        assert (message.event, message.cloud_event["id"]) == (
            "erp.product.created.v1",
            str(product.id),
        )
        assert message.cloud_event["data"]["sku"] == created.sku

        # Redelivered by the broker: recorded (and streamed) once. The next event of the
        # same product comes after the redelivery on its partition.
        await gateway.erp.deliver(product)
        following_event = await gateway.erp.publish(updated)
        following = await stream.next_event()
        assert following.cloud_event["id"] == str(following_event.id), "no repeat streamed"
        assert int(following.id or 0) > int(message.id or 0)


async def test_a_reconnecting_client_gets_what_it_missed_and_nothing_twice(
    gateway: LiveGateway,
) -> None:
    events = versions_of_one_product(7)
    product_types = ["erp.product.*"]
    async with event_stream(gateway.base_url, "admin", types=product_types) as watcher:
        earlier = [await gateway.erp.publish(data) for data in events[:2]]
        # Once the last is streamed it is recorded: a stream opened now starts after them.
        streamed: list[str] = []
        while str(earlier[-1].id) not in streamed:
            streamed.append((await watcher.next_event()).cloud_event["id"])

    async with event_stream(gateway.base_url, "admin", types=product_types) as stream:
        seen = [await gateway.erp.publish(data) for data in events[2:4]]
        got = [await stream.next_event() for _ in seen]
    assert [m.cloud_event["id"] for m in got] == [str(e.id) for e in seen]

    missed = [await gateway.erp.publish(data) for data in events[4:]]
    async with event_stream(
        gateway.base_url, "admin", types=product_types, last_event_id=got[-1].id
    ) as stream:
        resumed = [await stream.next_event() for _ in missed]
        # Nothing else (no repeat) came before an event recorded afterwards.
        marker = await gateway.erp.publish(product_created())
        assert (await stream.next_event()).cloud_event["id"] == str(marker.id)
    assert [m.cloud_event["id"] for m in resumed] == [str(e.id) for e in missed]
    positions = [int(m.id or 0) for m in [*got, *resumed]]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)


async def test_an_event_a_role_may_not_read_never_reaches_its_stream(
    gateway: LiveGateway,
) -> None:
    hired = EmployeeHired(
        version=1,
        employee_id=uuid.uuid4(),
        name="Rita Rep",
        email="rita@example.com",
        department_id=None,
        manager_id=None,
        title="Sales rep",
        role=Role.SALES,
        hired_on="2026-11-02",
        status="active",
    )
    async with (
        event_stream(gateway.base_url, "warehouse") as warehouse,
        event_stream(gateway.base_url, "hr") as hr,
    ):
        employee = await gateway.erp.publish(hired)
        low = await gateway.erp.publish(stock_low())
        assert (await hr.next_event()).cloud_event["id"] == str(employee.id)
        assert (await warehouse.next_event()).cloud_event["id"] == str(low.id)
        # The stock event is recorded (warehouse got it); the next hire, recorded after
        # it, is the next thing hr sees: the stock event was skipped, not merely late.
        later = await gateway.erp.publish(hired.model_copy(update={"employee_id": uuid.uuid4()}))
        assert (await hr.next_event()).cloud_event["id"] == str(later.id)


async def test_an_event_on_the_broker_is_delivered_to_the_webhooks_that_want_it(
    gateway: LiveGateway,
) -> None:
    await gateway.erp.publish(product_created())  # not subscribed
    low: CloudEvent[Any] = await gateway.erp.publish(stock_low())

    async def queued() -> list[dict[str, Any]]:
        return [d for d in await gateway.deliveries() if d["event_id"] == str(low.id)]

    await until(queued, lambda found: len(found) == 1, f"a delivery of {low.id}")
    await until(
        gateway.dispatcher.deliver_due,
        lambda _: any(d.webhook_id == str(low.id) for d in gateway.hooks.received),
        "the receiver got the event",
    )
    [delivery] = [d for d in gateway.hooks.received if d.webhook_id == str(low.id)]
    assert delivery.signature_valid
    assert delivery.event["type"] == "erp.stock.low.v1"
    [logged] = await queued()
    assert logged["status"] == "delivered"
