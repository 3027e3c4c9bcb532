"""What a sloppy client or a misbehaving service does to the proxy: headers named in
several `Connection` headers, a client that leaves in the middle of a streamed answer, a
service that breaks off its answer, more than one `Authorization` header, a method no
route takes."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import httpx
import pytest

from shared_schemas.broker import free_port
from tests.support.edge import bearer, edge_gateway
from tests.support.kafka_tools import until
from tests.support.stub_upstreams import Arrived, Reply, StubUpstream, echo, serving

pytestmark = pytest.mark.api


async def test_headers_named_in_any_connection_header_stop_both_ways(database_url: str) -> None:
    """`Connection` is a list that may come in several headers (RFC 9110 §5.3): what the
    first one names is as hop-by-hop as what the last one names."""

    async def two_connection_headers(n: int, arrived: Arrived) -> Reply:
        reply = await echo(n, arrived)
        reply.headers += [("Connection", "X-Inner-Secret"), ("X-Inner-Secret", "inner")]
        return reply

    async with (
        StubUpstream(two_connection_headers) as stub,
        edge_gateway(database_url, erp_url=stub.url) as gateway,
    ):
        answer = await gateway.client.get(
            "/api/erp/products",
            headers=[
                *bearer("warehouse").items(),
                ("Connection", "X-Client-Secret"),
                ("Connection", "keep-alive"),
                ("X-Client-Secret", "private"),
            ],
        )
        assert answer.status_code == 200, answer.text
        sent = dict(json.loads(answer.content)["headers"])
        assert "x-client-secret" not in sent
        assert "x-inner-secret" not in answer.headers
        assert answer.headers["x-kept"] == "yes"


@asynccontextmanager
async def endless_service() -> AsyncIterator[tuple[str, list[asyncio.StreamWriter]]]:
    """A service answering every request with a body that never ends; yields its URL and
    its open connections."""
    open_connections: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        open_connections.append(writer)
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            while True:
                writer.write(b"1000\r\n" + b"x" * 4096 + b"\r\n")
                await writer.drain()
                await asyncio.sleep(0.01)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            open_connections.remove(writer)
            writer.close()

    port = free_port()
    server = await asyncio.start_server(serve, "127.0.0.1", port)
    try:
        yield f"http://127.0.0.1:{port}", open_connections
    finally:
        server.close()
        for writer in list(open_connections):
            writer.close()
        with suppress(ConnectionError):
            await server.wait_closed()


async def test_a_client_leaving_a_streamed_answer_frees_the_service_s_connection(
    database_url: str,
) -> None:
    """The server drops what is sent to a client that left; the gateway must stop reading
    the service's answer for it, or the connection stays taken while the service sends,
    and with the pool full the next request waits for ever."""
    async with (
        endless_service() as (service_url, open_connections),
        edge_gateway(database_url, erp_url=service_url, upstream_pool_size=1) as gateway,
        serving(gateway.app, lifespan="off") as gateway_url,
    ):
        port = int(gateway_url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        token = bearer("warehouse")["Authorization"]
        writer.write(
            f"GET /api/erp/products HTTP/1.1\r\nHost: gw\r\nAuthorization: {token}\r\n\r\n".encode()
        )
        await writer.drain()
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        await reader.readexactly(10_000)
        writer.close()  # mid-answer

        await until(
            lambda: _count(open_connections), lambda n: n == 0, "the service's connection closed"
        )
        async with (
            httpx.AsyncClient(base_url=gateway_url, timeout=30) as client,
            client.stream("GET", "/api/erp/products", headers=bearer("warehouse")) as again,
        ):
            assert again.status_code == 200  # the pool's one connection is free again


async def _count(items: list[asyncio.StreamWriter]) -> int:
    return len(items)


async def test_an_answer_that_breaks_off_is_a_502_and_a_failure_of_the_service(
    database_url: str,
) -> None:
    """Headers promising 100 bytes, 5 of them, then the connection closes: the client gets
    a clean 502, and the breaker and the metrics count a failure, not a 200."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"a":')
            await writer.drain()
        writer.close()

    port = free_port()
    server = await asyncio.start_server(serve, "127.0.0.1", port)
    try:
        async with edge_gateway(
            database_url, erp_url=f"http://127.0.0.1:{port}", breaker_failures=2
        ) as gateway:
            for _ in range(2):
                answer = await gateway.client.post(
                    "/api/erp/products", json={}, headers=bearer("warehouse")
                )
                assert answer.status_code == 502
                assert answer.headers["content-type"] == "application/problem+json"
            refused = await gateway.client.get("/api/erp/products", headers=bearer("warehouse"))
            assert refused.status_code == 503  # the circuit is open
            metrics = (await gateway.client.get("/metrics")).text
            assert 'gateway_upstream_requests_total{outcome="broken_off",upstream="erp"}' in metrics
    finally:
        server.close()
        await server.wait_closed()


async def test_two_authorization_headers_are_judged_as_the_one_read_behind_the_gateway(
    database_url: str,
) -> None:
    """A proxied request with two tokens is refused: the service reads the first, and
    the gateway must not let in what it judged by the other. The gateway's own routes
    judge the first, as its app reads it."""
    async with (
        StubUpstream() as stub,
        edge_gateway(database_url, erp_url=stub.url) as gateway,
    ):
        warehouse, hr = bearer("warehouse"), bearer("hr")
        for first, second in ((warehouse, hr), (hr, warehouse)):
            both = [
                ("Authorization", first["Authorization"]),
                ("Authorization", second["Authorization"]),
            ]
            answer = await gateway.client.get("/api/erp/employees", headers=both)
            assert answer.status_code == 401, answer.text
        assert stub.arrived == []

        garbage_then_admin = [
            ("Authorization", "Bearer garbage"),
            ("Authorization", bearer("admin")["Authorization"]),
        ]
        users = await gateway.client.get("/auth/users", headers=garbage_then_admin)
        assert users.status_code == 401
        assert (await gateway.client.get("/auth/users", headers=bearer("admin"))).status_code == 200


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _served(route: str, status: int, metrics: str) -> float:
    sample = (
        f'http_request_duration_seconds_count{{method="GET",route="{route}",status="{status}"}} '
    )
    line = next((line for line in metrics.splitlines() if line.startswith(sample)), None)
    return float(line[len(sample) :]) if line else 0.0


async def test_a_streamed_answer_that_breaks_off_cuts_the_connection_with_one_warning(
    database_url: str,
) -> None:
    """A chunked answer whose service goes away mid-body: too late for an error answer, so
    the client's connection is cut (it sees a broken body, never a whole one), the log
    says so in one warning naming the service and the request, with no error or
    traceback, and the request counts as a 502."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            writer.write(b"1000\r\n" + b"x" * 4096 + b"\r\n")
            await writer.drain()
        writer.close()

    port = free_port()
    server = await asyncio.start_server(serve, "127.0.0.1", port)
    records = _Records()
    watched = [logging.getLogger(), logging.getLogger("uvicorn")]
    route = "/api/erp/products/{id}"
    try:
        async with (
            edge_gateway(database_url, erp_url=f"http://127.0.0.1:{port}") as gateway,
            serving(gateway.app, lifespan="off") as gateway_url,
        ):
            before = (await gateway.client.get("/metrics")).text
            for logger in watched:
                logger.addHandler(records)
            headers = {**bearer("warehouse"), "X-Request-ID": "cut-answer-1"}
            async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as client:
                with pytest.raises(httpx.RemoteProtocolError):
                    await client.get(f"/api/erp/products/{uuid.uuid4()}", headers=headers)
            for logger in watched:
                logger.removeHandler(records)
            after = (await gateway.client.get("/metrics")).text
    finally:
        for logger in watched:
            logger.removeHandler(records)
        server.close()
        await server.wait_closed()

    loud = [r.getMessage() for r in records.records if r.levelno >= logging.ERROR or r.exc_info]
    assert loud == []
    warnings = [r.getMessage() for r in records.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "erp" in warnings[0]
    assert "cut-answer-1" in warnings[0]
    assert _served(route, 502, after) == _served(route, 502, before) + 1
    assert _served(route, 500, after) == _served(route, 500, before)


async def test_connect_trace_and_made_up_methods_are_a_405_at_the_gateway(
    database_url: str,
) -> None:
    """Only GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS go anywhere: any other method is
    refused before a service is asked, on every path, with the methods that are allowed."""
    async with (
        StubUpstream() as stub,
        edge_gateway(database_url, erp_url=stub.url) as gateway,
    ):
        for method in ("CONNECT", "TRACE", "PROPFIND"):
            for path in ("/api/erp/products", "/api/erp/nothing/here", "/auth/users", "/healthz"):
                answer = await gateway.client.request(method, path, headers=bearer("admin"))
                assert answer.status_code == 405, (method, path, answer.text)
                assert answer.headers["content-type"] == "application/problem+json"
                assert answer.headers["allow"] == "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
                assert answer.json()["status"] == 405
        assert stub.arrived == []
        options = await gateway.client.options("/api/erp/products", headers=bearer("admin"))
        assert options.status_code == 200
        assert [arrived.method for arrived in stub.arrived] == ["OPTIONS"]


async def test_a_token_after_several_spaces_reaches_the_service_as_the_gateway_judged_it(
    database_url: str,
) -> None:
    """`Bearer   <token>`: the gateway and the services' route checks read the token past
    the spaces; the services' Idempotency-Key layer reads the raw rest, spaces included,
    and would not know the caller (a retried POST would run twice). The service gets the
    token as judged here, after one space."""
    async with (
        StubUpstream() as stub,
        edge_gateway(database_url, erp_url=stub.url) as gateway,
    ):
        token = bearer("warehouse")["Authorization"].removeprefix("Bearer ")
        answer = await gateway.client.post(
            "/api/erp/products",
            json={},
            headers={"Authorization": f"Bearer   {token}", "Idempotency-Key": "k-1"},
        )
        assert answer.status_code == 200, answer.text
        assert stub.arrived[0].header("authorization") == f"Bearer {token}"
