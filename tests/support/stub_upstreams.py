"""Upstreams for gateway tests: a real service app served by uvicorn on a free loopback
port inside the test's event loop, and a tiny HTTP/1.1 stub server whose behaviour a test
chooses (echo what arrived, answer slowly, drop the connection, go away and come back)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

import uvicorn
from starlette.types import ASGIApp

from shared_schemas.broker import free_port


@asynccontextmanager
async def serving(
    app: ASGIApp, *, port: int | None = None, lifespan: str = "auto"
) -> AsyncIterator[str]:
    """`app` under uvicorn on 127.0.0.1 until the block ends; yields its base URL.
    `lifespan="off"` serves an app whose lifespan the test runs (or needs not) itself."""
    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan=lifespan,  # type: ignore[arg-type]
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        if task.done():
            task.result()
            raise AssertionError("uvicorn stopped before it started")
        if time.monotonic() > deadline:
            raise AssertionError("uvicorn did not start within 30 s")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Arrived:
    """One request as the stub received it."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n == name.lower()), None)


@dataclass
class Reply:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


# What the stub does with the n-th request (1-based): a reply, or None to drop the
# connection without answering.
Behaviour = Callable[[int, Arrived], Awaitable[Reply | None]]


async def echo(_: int, arrived: Arrived) -> Reply:
    """The request as JSON, with hop-by-hop headers the gateway must not pass on."""
    body = json.dumps(
        {
            "method": arrived.method,
            "target": arrived.target,
            "headers": [list(pair) for pair in arrived.headers],
            "body_bytes": len(arrived.body),
        }
    ).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Connection", "keep-alive, X-Internal-Hop"),
        ("Keep-Alive", "timeout=5"),
        ("X-Internal-Hop", "secret"),
        ("Proxy-Authenticate", 'Basic realm="inner"'),
        ("X-Kept", "yes"),
        ("ETag", '"7"'),
    ]
    return Reply(200, headers, body)


class StubUpstream:
    """An HTTP/1.1 server on 127.0.0.1 (keep-alive, Content-Length or chunked bodies)."""

    def __init__(self, behaviour: Behaviour = echo, *, port: int | None = None) -> None:
        self.behaviour = behaviour
        self.port = port or free_port()
        self.arrived: list[Arrived] = []
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> StubUpstream:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        """Gone: the port refuses connections and open ones are cut."""
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> StubUpstream:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            while True:
                arrived = await _read_request(reader)
                if arrived is None:
                    return
                self.arrived.append(arrived)
                reply = await self.behaviour(len(self.arrived), arrived)
                if reply is None:
                    return
                writer.write(_encode(reply))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> Arrived | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
    fields = dict(headers)
    if "content-length" in fields:
        body = await reader.readexactly(int(fields["content-length"]))
    elif fields.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:
        body = b""
    return Arrived(method, target, headers, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _encode(reply: Reply) -> bytes:
    lines = [f"HTTP/1.1 {reply.status} Stub"]
    lines += [f"{name}: {value}" for name, value in reply.headers]
    lines.append(f"Content-Length: {len(reply.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + reply.body
