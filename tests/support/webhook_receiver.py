"""Another system receiving the gateway's webhooks: an HTTP server on 127.0.0.1 that checks
each delivery the way docs/webhooks.md tells receivers to, and answers with the statuses
a test scripts."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class Received:
    webhook_id: str
    timestamp: int
    signature: str
    content_type: str
    body: bytes
    signature_valid: bool
    timestamp_fresh: bool

    @property
    def event(self) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(self.body)
        return event


def expected_signature(secret: str, timestamp: int, body: bytes) -> str:
    """Written from the documented scheme, not from the gateway's code."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


@dataclass
class Receiver:
    url: str
    secret: str | None = None
    # Statuses to answer, in order; 200 once they are used up.
    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    # Seconds to wait before answering (a receiver too slow for the gateway's timeout).
    delay: float = 0.0

    def answer(self, *statuses: int) -> None:
        self.script.extend(statuses)

    def events(self) -> list[dict[str, Any]]:
        return [delivery.event for delivery in self.received]

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        raw_timestamp = request.headers.get("Webhook-Timestamp", "")
        timestamp = int(raw_timestamp) if raw_timestamp.isdigit() else 0
        signature = request.headers.get("Webhook-Signature", "")
        valid = self.secret is not None and hmac.compare_digest(
            signature, expected_signature(self.secret, timestamp, body)
        )
        self.received.append(
            Received(
                webhook_id=request.headers.get("Webhook-Id", ""),
                timestamp=timestamp,
                signature=signature,
                content_type=request.headers.get("Content-Type", ""),
                body=body,
                signature_valid=valid,
                timestamp_fresh=abs(time.time() - timestamp) <= TOLERANCE_SECONDS,
            )
        )
        status = self.script.pop(0) if self.script else 200
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(status=status, text=f"answered {status}")


@asynccontextmanager
async def answering_with(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]], path: str = "/hooks"
) -> AsyncIterator[str]:
    """A server on a free port of 127.0.0.1 answering POSTs to `path` with `handler` for
    the duration of the block; yields its URL."""
    app = web.Application()
    app.router.add_post(path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def receiver(secret: str | None = None, path: str = "/hooks") -> AsyncIterator[Receiver]:
    """A receiver listening on a free port of 127.0.0.1 for the duration of the block."""
    hooks = Receiver(url="", secret=secret)
    async with answering_with(hooks._handle, path) as url:
        hooks.url = url
        yield hooks
