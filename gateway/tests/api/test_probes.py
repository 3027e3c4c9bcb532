"""The gateway answers its probes without a token, on its own database, and leaves open
only what the documentation lists; its health details say whether the Kafka brokers
answer, and a broker that does not never makes it unready."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from gateway.adapters.broker_probe import BrokerProbe
from gateway.config import Settings
from gateway.main import create_app
from shared_schemas.broker import free_port
from shared_schemas.messaging import KafkaSettings
from tests.support.edge import edge_gateway
from tests.support.gateway import Gateway
from tests.support.gateway_events import events_settings, gateway_events, product_created
from tests.support.kafka_tools import until

pytestmark = pytest.mark.api


async def test_the_gateway_is_alive_and_ready_on_its_database(gateway: Gateway) -> None:
    client = gateway.client
    alive = await client.get("/healthz")
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"}), ready.text


async def test_a_gateway_whose_database_is_away_is_alive_but_not_ready() -> None:
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gone"
    app = create_app(Settings(database_url=nowhere))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as client:
            assert (await client.get("/healthz")).json() == {"status": "ok"}
            unready = await client.get("/readyz")
        assert unready.status_code == 503, unready.text
        assert unready.headers["content-type"] == "application/problem+json"
        assert unready.json()["detail"] == "The database is unreachable."
    finally:
        await app.state.engine.dispose()


# What README.md and docs/identity.md say the gateway answers without a token.
OPEN_OPERATIONS = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/healthz/upstreams"),
    ("POST", "/auth/token"),
    ("POST", "/auth/exchange"),
    ("GET", "/.well-known/jwks.json"),
}
OPEN_DOCUMENTS = ("/openapi.json", "/gateway/openapi.json", "/docs", "/redoc", "/asyncapi.json")


async def test_only_the_documented_routes_answer_without_a_token(database_url: str) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with edge_gateway(database_url, crm_url=nowhere, erp_url=nowhere) as gateway:
        client = gateway.client
        document = (await client.get("/gateway/openapi.json")).json()
        answered = set()
        for path, operations in document["paths"].items():
            target = re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)
            for method in operations:
                response = await client.request(method.upper(), target)
                if response.status_code != 401:
                    answered.add((method.upper(), path))
        assert answered == OPEN_OPERATIONS
        for path in OPEN_DOCUMENTS:
            assert (await client.get(path)).status_code == 200, path


async def test_an_unreachable_broker_is_reported_down_and_the_gateway_stays_ready(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens there: every connection is refused.
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{free_port()}")
    async with edge_gateway(database_url) as gateway:
        client = gateway.client
        async with asyncio.timeout(10):
            health = await client.get("/healthz", params={"details": "true"})
        assert health.status_code == 200
        details = health.json()
        assert details["status"] == "ok"
        broker = details["broker"]
        assert broker["state"] == "down"
        assert broker["detail"] == "No bootstrap server answered."
        assert "127.0.0.1" not in health.text, "no address of the infrastructure is shown"
        # Answered from the last check until it is older than the interval.
        again = (await client.get("/healthz", params={"details": "true"})).json()["broker"]
        assert again == broker
        assert "gateway_broker_up 0.0" in (await client.get("/metrics")).text
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/healthz")).json() == {"status": "ok"}


# A UTC time as the APIs answer it everywhere else (pydantic's JSON form).
UTC_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z")


async def test_the_health_details_give_times_in_utc_as_every_answer_does(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{free_port()}")
    async with gateway_events(events_settings(database_url)) as hub:
        await hub.publish(product_created())
        health = await hub.client.get("/healthz", params={"details": "true"})
        assert health.status_code == 200
        details = health.json()
        assert UTC_TIME.fullmatch(details["broker"]["checked_at"]), details
        assert UTC_TIME.fullmatch(details["consumer"]["last_event_received_at"]), details


@asynccontextmanager
async def silent_listener() -> AsyncIterator[int]:
    """A port that accepts connections and never answers (a frozen broker, seen from a
    client); yields the port."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in held:
            writer.close()
        await server.wait_closed()


async def test_a_broker_that_never_answers_is_down_once_the_check_times_out() -> None:
    async with silent_listener() as port:
        probe = BrokerProbe(KafkaSettings(bootstrap_servers=f"127.0.0.1:{port}"), timeout=0.3)
        try:
            async with asyncio.timeout(5):
                state = await probe.state()
        finally:
            await probe.close()
    assert state.state == "down"
    assert state.detail == "The broker did not answer within 0.3 s."


async def test_a_due_check_runs_beside_the_callers_who_get_the_last_answer() -> None:
    now = [0.0]
    probe = BrokerProbe(
        KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}"),
        interval=15,
        clock=lambda: now[0],
    )
    try:
        first = await probe.state()
        now[0] = 16.0
        # Due: a new check starts, and this caller is answered from the last one at once.
        assert await probe.state() is first
        latest = await until(probe.state, lambda state: state is not first, "the check's answer")
        assert latest.state == "down"
        assert latest.checked_at >= first.checked_at
    finally:
        await probe.close()
