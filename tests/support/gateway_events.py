"""The gateway's event history, live stream and webhooks under test: the app with events
applied through its own consumer path (or its real consumer on the broker), served on
127.0.0.1 for streaming clients, and a reader of Server-Sent Events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from gateway.config import Settings
from gateway.main import create_app
from gateway.service.webhook_delivery import WebhookDispatcher
from shared_schemas.events.base import CloudEvent, EventData, new_event
from shared_schemas.events.crm.customers import CustomerCreated
from shared_schemas.events.erp.products import ProductCreated
from shared_schemas.events.erp.stock import StockLow
from shared_schemas.messaging import EventApplier, Outcome
from tests.support.gateway import SIGNER
from tests.support.harness import migrate
from tests.support.identity import jwks_of
from tests.support.stub_upstreams import serving


def events_settings(database_url: str, **overrides: Any) -> Settings:
    """The gateway's settings for these tests: the test key, receivers on 127.0.0.1."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "jwks": json.dumps(jwks_of(SIGNER)),
        "webhook_allowed_private_hosts": ["127.0.0.1"],
        **overrides,
    }
    return Settings(**values)


def headers(role: str) -> dict[str, str]:
    token = SIGNER.issue(subject=f"user-{role}", roles=[role], employee_id=None)
    return {"Authorization": f"Bearer {token}"}


@dataclass
class GatewayEvents:
    """The gateway app, its client, and the business events the services publish, applied
    through the gateway's consumer path (inbox and history in one transaction)."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    applier: EventApplier = field(init=False)

    def __post_init__(self) -> None:
        self.applier = self.app.state.workers.applier()

    async def publish(self, data: EventData, source: str = "erp-service") -> CloudEvent[Any]:
        event = new_event(data, source=source, actor=source)
        await self.deliver(event)
        return event

    async def deliver(self, event: CloudEvent[Any]) -> Outcome:
        """Apply an event (new, or one seen before: a redelivery)."""
        parsed = self.applier.parse(event.model_dump_json().encode())
        assert parsed is not None, f"the gateway does not consume {event.type}"
        return await self.applier.apply(*parsed)

    def dispatcher(self, **options: Any) -> WebhookDispatcher:
        return WebhookDispatcher(self.app.state.engine, self.settings, **options)

    async def post(self, path: str, body: Any, role: str = "admin") -> dict[str, Any]:
        response = await self.client.post(path, json=body, headers=headers(role))
        assert response.is_success, f"POST {path}: {response.status_code} {response.text}"
        return dict(response.json())

    async def get(self, path: str, role: str = "admin", **params: Any) -> dict[str, Any]:
        response = await self.client.get(path, params=params, headers=headers(role))
        assert response.is_success, f"GET {path}: {response.status_code} {response.text}"
        return dict(response.json())


@contextlib.asynccontextmanager
async def gateway_events(settings: Settings) -> AsyncIterator[GatewayEvents]:
    await migrate("gateway", settings.database_url)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield GatewayEvents(app, client, settings)
    finally:
        await app.state.engine.dispose()


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """`app` behind a real HTTP server on 127.0.0.1 (streaming needs one: the in-process
    transport hands a response over only once it is complete); yields its base URL."""
    async with serving(app, lifespan="off") as url:
        yield url


@dataclass(frozen=True)
class Message:
    """One Server-Sent Events message (`comment` for a `:` line)."""

    id: str | None = None
    event: str | None = None
    data: str | None = None
    comment: str | None = None
    retry: int | None = None

    @property
    def cloud_event(self) -> dict[str, Any]:
        assert self.data is not None, self
        event: dict[str, Any] = json.loads(self.data)
        return event


class EventStream:
    """An open `GET /api/events/stream`, read message by message in the background."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.messages: asyncio.Queue[Message] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        fields: dict[str, str] = {}
        async for line in self.response.aiter_lines():
            if line.startswith(":"):
                await self.messages.put(Message(comment=line[1:].strip()))
                continue
            if line == "":
                if fields:
                    retry = fields.pop("retry", None)
                    await self.messages.put(
                        Message(**fields, retry=int(retry) if retry is not None else None)
                    )
                fields = {}
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value

    async def next(self, timeout: float = 30.0) -> Message:
        """The next message (heartbeats included); fails after `timeout` seconds."""
        try:
            return await asyncio.wait_for(self.messages.get(), timeout)
        except TimeoutError:
            raise AssertionError(f"no stream message within {timeout}s") from None

    async def next_event(self, timeout: float = 30.0) -> Message:
        """The next business event, skipping heartbeats and the reconnection hint."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.next(timeout)
                if message.event is not None:
                    return message

    async def nothing_more(self, seconds: float) -> None:
        """No business event arrives within `seconds` (a bounded wait for an absence)."""
        try:
            message = await self.next_event(seconds)
        except (AssertionError, TimeoutError):
            return
        raise AssertionError(f"unexpected event on the stream: {message}")

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await self._reader
        await self.response.aclose()


@contextlib.asynccontextmanager
async def event_stream(
    base_url: str,
    role: str,
    *,
    types: list[str] | None = None,
    last_event_id: str | None = None,
    after: int | None = None,
) -> AsyncIterator[EventStream]:
    """Connect to the stream as `role`, resuming after `last_event_id` (the header) or
    `after` (the query string); the connection is closed when the block ends."""
    request_headers = headers(role)
    if last_event_id is not None:
        request_headers["Last-Event-ID"] = last_event_id
    params: dict[str, Any] = {"types": types or []}
    if after is not None:
        params["last_event_id"] = after
    async with httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10, read=None)) as client:
        request = client.build_request(
            "GET", "/api/events/stream", params=params, headers=request_headers
        )
        response = await client.send(request, stream=True)
        assert response.status_code == 200, (response.status_code, await response.aread())
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = EventStream(response)
        try:
            yield stream
        finally:
            await stream.close()


# Business events of a few types, each about a fresh aggregate.


def product_created(sku: str | None = None) -> ProductCreated:
    return ProductCreated(
        version=1,
        product_id=uuid.uuid4(),
        sku=sku or f"SKU-{uuid.uuid4().hex[:8].upper()}",
        name="Widget",
        unit_price="100.00",
        currency="EUR",
        tax_rate="19",
        cost="60.00",
        reorder_point=5,
        active=True,
    )


def stock_low() -> StockLow:
    return StockLow(
        version=3,
        product_id=uuid.uuid4(),
        sku="SKU-LOW",
        warehouse_id=uuid.uuid4(),
        on_hand=4,
        reserved=1,
        available=3,
        reorder_point=5,
    )


def customer_created(name: str = "Acme GmbH") -> CustomerCreated:
    return CustomerCreated(
        version=1,
        customer_id=uuid.uuid4(),
        kind="company",
        name=name,
        email="buy@acme.example",
        owner_id=None,
        credit_limit=None,
        payment_terms_days=30,
    )
