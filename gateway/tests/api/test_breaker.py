"""Resilience towards the services: the circuit breaker per upstream opens after failures
in a row (503 + Retry-After without calling the service) and closes after a successful
probe; timeouts are 504, refused connections 503 with Retry-After (the service never saw
the request), a connection lost mid-request 502; a request is retried once after a lost
connection only when repeating it is harmless."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from shared_schemas.broker import free_port
from tests.support.edge import EdgeGateway, bearer, edge_gateway
from tests.support.kafka_tools import until
from tests.support.stub_upstreams import Arrived, Reply, StubUpstream

pytestmark = pytest.mark.api


async def circuit_of(gateway: EdgeGateway, upstream: str) -> str:
    health = await gateway.client.get("/healthz", params={"details": "true"})
    assert health.status_code == 200, "an upstream's state never makes the gateway unhealthy"
    circuit: str = health.json()["upstreams"][upstream]["circuit"]
    return circuit


# Long enough that the checks made while the circuit is open fit in it on a loaded
# machine; the test waits it out only once.
COOLDOWN = 5


async def test_the_breaker_opens_when_the_service_dies_and_closes_when_it_is_back(
    database_url: str,
) -> None:
    stub = await StubUpstream().start()
    try:
        async with edge_gateway(
            database_url, erp_url=stub.url, breaker_failures=3, breaker_cooldown_seconds=COOLDOWN
        ) as gateway:
            client, admin = gateway.client, bearer("admin")
            assert (await client.get("/api/erp/products", headers=admin)).status_code == 200
            await stub.stop()

            # Refused: 503. A GET is tried twice (two failures), a POST once (the third).
            down = await client.get("/api/erp/products", headers=admin)
            assert down.status_code == 503
            assert down.headers["content-type"] == "application/problem+json"
            assert (await client.post("/api/erp/orders", headers=admin)).status_code == 503

            opened = await client.get("/api/erp/products", headers=admin)
            assert opened.status_code == 503
            assert 0 < int(opened.headers["retry-after"]) <= COOLDOWN
            assert opened.json()["type"].endswith("/upstream-unavailable")
            assert await circuit_of(gateway, "erp") == "open"
            assert await circuit_of(gateway, "crm") == "closed"
            metrics = (await client.get("/metrics")).text
            assert 'gateway_circuit_breaker_state{upstream="erp"} 1.0' in metrics

            # The service is back, but while the circuit is open nobody calls it.
            stub = await StubUpstream(port=stub.port).start()
            assert (await client.get("/api/erp/products", headers=admin)).status_code == 503
            assert stub.connections == 0

            # Asked until the cool-down has passed and the breaker lets a probe through.
            probe: httpx.Response = await until(
                lambda: client.get("/api/erp/products", headers=admin),
                lambda answer: answer.status_code != 503,
                "the breaker to let a probe through",
            )
            assert probe.status_code == 200
            assert len(stub.arrived) == 1
            assert await circuit_of(gateway, "erp") == "closed"
            assert (await client.get("/api/erp/products", headers=admin)).status_code == 200
            metrics = (await client.get("/metrics")).text
            assert 'gateway_circuit_breaker_state{upstream="erp"} 0.0' in metrics
            assert 'gateway_upstream_requests_total{outcome="circuit_open",upstream="erp"}' in (
                metrics
            )
    finally:
        await stub.stop()


async def test_health_reports_an_open_circuit_and_the_gateway_stays_ready(
    database_url: str,
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with edge_gateway(
        database_url, erp_url=nowhere, breaker_failures=1, breaker_cooldown_seconds=60
    ) as gateway:
        client = gateway.client
        # Sent once (a POST without a key), refused: the one failure opens the circuit.
        assert (await client.post("/api/erp/orders", headers=bearer("admin"))).status_code == 503
        health = await client.get("/healthz", params={"details": "true"})
        assert health.status_code == 200
        details = health.json()
        assert details["status"] == "ok"
        assert details["upstreams"] == {"crm": {"circuit": "closed"}, "erp": {"circuit": "open"}}
        assert details["consumer"] == {
            "state": "ok",
            "last_event_received_at": None,
            "webhook_backlog": 0,
        }
        # The plain probe stays the cheap answer every service gives.
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200, "a service down does not make the gateway unready"
        legacy = (await client.get("/healthz/upstreams")).json()
        assert legacy["upstreams"]["erp"] == {"circuit": "open"}


async def test_server_errors_count_as_failures_and_pass_through_until_it_opens(
    database_url: str,
) -> None:
    async def unavailable(_: int, __: Arrived) -> Reply:
        return Reply(503, [("Content-Type", "application/json")], b'{"own": "answer"}')

    async with (
        StubUpstream(unavailable) as stub,
        edge_gateway(
            database_url, crm_url=stub.url, breaker_failures=2, breaker_cooldown_seconds=60
        ) as gateway,
    ):
        for _ in range(2):
            answer = await gateway.client.get("/api/crm/leads", headers=bearer("admin"))
            assert answer.status_code == 503
            assert answer.json() == {"own": "answer"}  # the service's answer, unchanged
        opened = await gateway.client.get("/api/crm/leads", headers=bearer("admin"))
        assert opened.status_code == 503
        assert opened.headers["content-type"] == "application/problem+json"
        assert 50 <= int(opened.headers["retry-after"]) <= 60
        assert len(stub.arrived) == 2


async def test_a_service_that_does_not_answer_in_time_is_a_504(database_url: str) -> None:
    release = asyncio.Event()

    async def stalled(_: int, __: Arrived) -> Reply:
        await release.wait()
        return Reply(200)

    async with (
        StubUpstream(stalled) as stub,
        edge_gateway(database_url, erp_url=stub.url, upstream_read_timeout=0.3) as gateway,
    ):
        answer = await gateway.client.get("/api/erp/products", headers=bearer("admin"))
        assert answer.status_code == 504
        assert answer.json()["type"].endswith("/upstream-timeout")
        assert len(stub.arrived) == 1  # a timeout is never retried
        release.set()


async def test_a_refused_connection_is_a_503_to_retry(database_url: str) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with edge_gateway(database_url, crm_url=nowhere) as gateway:
        answer = await gateway.client.get("/api/crm/customers", headers=bearer("admin"))
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "1"
        assert answer.json()["type"].endswith("/upstream-unavailable")
        assert answer.json()["detail"] == "The crm service is unreachable; try again shortly."
        assert "x-request-id" in answer.headers


def dropping_the_first() -> StubUpstream:
    """A service that loses the first request (closes the connection unanswered)."""

    async def behaviour(n: int, _: Arrived) -> Reply | None:
        return None if n == 1 else Reply(201, [("Content-Type", "application/json")], b"{}")

    return StubUpstream(behaviour)


@pytest.mark.parametrize(
    ("method", "key", "attempts", "status"),
    [
        ("POST", None, 1, 502),
        ("PATCH", None, 1, 502),
        ("POST", "order-42", 2, 201),
        # The services honour Idempotency-Key on POST only: a PATCH could apply twice.
        ("PATCH", "change-7", 1, 502),
        ("GET", None, 2, 201),
        ("PUT", None, 2, 201),
        ("DELETE", None, 2, 201),
    ],
)
async def test_a_lost_request_is_retried_once_only_when_that_is_harmless(
    database_url: str, method: str, key: str | None, attempts: int, status: int
) -> None:
    headers = bearer("admin")
    if key is not None:
        headers["Idempotency-Key"] = key
    async with (
        dropping_the_first() as stub,
        edge_gateway(database_url, erp_url=stub.url) as gateway,
    ):
        body = b"{}" if method in ("POST", "PATCH", "PUT") else None
        answer = await gateway.client.request(
            method, "/api/erp/orders/1", content=body, headers=headers
        )
        assert answer.status_code == status
        assert len(stub.arrived) == attempts
        assert {a.header("idempotency-key") for a in stub.arrived} == {key}


async def test_a_key_the_connection_header_stops_does_not_make_a_post_repeatable(
    tmp_path: Path,
) -> None:
    """`Connection: Idempotency-Key` makes the key hop-by-hop: the service never gets it,
    so a lost POST must not be sent again."""
    headers = {**bearer("admin"), "Idempotency-Key": "order-43", "Connection": "Idempotency-Key"}
    async with (
        dropping_the_first() as stub,
        edge_gateway(f"sqlite+aiosqlite:///{tmp_path}/gw.db", erp_url=stub.url) as gateway,
    ):
        answer = await gateway.client.post("/api/erp/orders", content=b"{}", headers=headers)
        assert answer.status_code == 502
        assert len(stub.arrived) == 1
        assert stub.arrived[0].header("idempotency-key") is None
