"""The smallest proxy over each candidate HTTP client, for the gateway benchmark's choice
of client: plain ASGI, one pooled client opened in the lifespan, GET passed on and the
answer sent back whole. No checks, no headers kept but the content type.

    uvicorn tests.benchmarks.minimal_proxy:httpx_app     (MINIMAL_PROXY_UPSTREAM=http://...)
    uvicorn tests.benchmarks.minimal_proxy:aiohttp_app
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
import httpx
from starlette.types import Receive, Scope, Send

UPSTREAM = os.environ.get("MINIMAL_PROXY_UPSTREAM", "http://127.0.0.1:8002")
POOL = 100
PASSED = ("authorization",)


def _target(scope: Scope) -> str:
    query = scope["query_string"].decode()
    return UPSTREAM + scope["path"] + (f"?{query}" if query else "")


def _headers(scope: Scope) -> dict[str, str]:
    return {
        name.decode(): value.decode() for name, value in scope["headers"] if name.decode() in PASSED
    }


async def _lifespan(receive: Receive, send: Send, start: Any, stop: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await stop()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _answer(send: Send, status: int, content_type: str | None, body: bytes) -> None:
    headers = [(b"content-type", content_type.encode())] if content_type else []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class HttpxProxy:
    client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, self.start, self.stop)
            return
        assert self.client is not None
        response = await self.client.get(_target(scope), headers=_headers(scope))
        await _answer(
            send, response.status_code, response.headers.get("content-type"), response.content
        )

    async def start(self) -> None:
        limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
        self.client = httpx.AsyncClient(limits=limits)

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.aclose()


class AiohttpProxy:
    session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, self.start, self.stop)
            return
        assert self.session is not None
        async with self.session.get(_target(scope), headers=_headers(scope)) as response:
            body = await response.read()
            await _answer(send, response.status, response.headers.get("content-type"), body)

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=POOL)
        self.session = aiohttp.ClientSession(connector=connector, auto_decompress=False)

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()


httpx_app = HttpxProxy()
aiohttp_app = AiohttpProxy()
