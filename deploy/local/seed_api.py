"""The gateway's public API as the demo seed calls it: requests under the development users'
tokens, bounded in number, waiting out rate limits and busy idempotency keys, and polling
for what one service learns from the other."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

KEY_PREFIX = "demo-seed/"
CONCURRENCY = 6
REPLICA_WAIT = 60.0  # seconds for one service to learn of what the other did
POLL_INTERVAL = 0.4

Json = dict[str, Any]


class SeedFailed(RuntimeError):
    """A request of the seed got an answer it cannot go on from (shown in the message)."""


class GatewayUnreachable(SeedFailed):
    """Nothing answers at the gateway URL: the platform is not running there."""


def _problem(response: httpx.Response) -> Json:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def describe(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url.path}: {response.status_code} {response.text[:600]}"


def retry_after(response: httpx.Response) -> float:
    """Seconds the gateway asks to wait (`Retry-After`), at least 0.2; 1 if unreadable."""
    try:
        return max(0.2, float(response.headers.get("retry-after", "1")))
    except ValueError:
        return 1.0


class Api:
    """The gateway as the development users see it: each call under a role's token, at
    most CONCURRENCY at a time, waiting out what the gateway asks to wait out (429, 503,
    a key still in use)."""

    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens
        self.limit = asyncio.Semaphore(CONCURRENCY)
        self.requests = 0

    async def send(
        self,
        role: str,
        method: str,
        path: str,
        *,
        body: Json | None = None,
        params: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        if key is not None:
            headers["Idempotency-Key"] = KEY_PREFIX + key
        for _ in range(30):
            async with self.limit:
                self.requests += 1
                response = await self.client.request(
                    method, path, json=body, params=params, headers=headers
                )
            busy = response.status_code == 409 and "idempotency-key-in-use" in str(
                _problem(response).get("type")
            )
            if response.status_code not in (429, 503) and not busy:
                return response
            await asyncio.sleep(retry_after(response))
        raise SeedFailed(f"gave up waiting: {describe(response)}")

    async def get(self, role: str, path: str, params: dict[str, Any] | None = None) -> Json:
        response = await self.send(role, "GET", path, params=params)
        if response.status_code != 200:
            raise SeedFailed(describe(response))
        result: Json = response.json()
        return result

    async def get_all(
        self, role: str, path: str, params: dict[str, Any] | None = None
    ) -> list[Json]:
        items: list[Json] = []
        cursor: str | None = None
        while True:
            query = {**(params or {}), "limit": 200}
            if cursor:
                query["cursor"] = cursor
            page = await self.get(role, path, query)
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                return items

    async def post(
        self,
        role: str,
        path: str,
        body: Json | None = None,
        *,
        key: str,
        lagging: bool = False,
        existing: bool = False,
    ) -> Json:
        """POST under the Idempotency-Key `key`.

        lagging: a 422 may mean the service has not learned yet of a record the other
        service made; the request is repeated under `key#<n>` (the 422 is kept under the
        earlier key, and a later run replays the same sequence) until REPLICA_WAIT.
        existing: a 409 naming `existing_id` (a natural key taken) answers that record.
        """
        deadline = time.monotonic() + REPLICA_WAIT
        attempt = 0
        while True:
            response = await self.send(
                role, "POST", path, body=body, key=key if attempt == 0 else f"{key}#{attempt}"
            )
            if response.status_code in (200, 201):
                result: Json = response.json()
                return result
            found = _problem(response).get("existing_id")
            if existing and response.status_code == 409 and found:
                return await self.get(role, f"{path}/{found}")
            if lagging and response.status_code == 422 and time.monotonic() < deadline:
                attempt += 1
                if response.headers.get("idempotent-replayed") != "true":
                    # Backing off: records waiting on the same replica retry together.
                    await asyncio.sleep(min(2.0, POLL_INTERVAL * 1.3**attempt))
                continue
            raise SeedFailed(describe(response))

    async def patch(self, role: str, path: str, body: Json) -> Json:
        response = await self.send(role, "PATCH", path, body=body)
        if response.status_code != 200:
            raise SeedFailed(describe(response))
        result: Json = response.json()
        return result


async def gather(*calls: Awaitable[Any]) -> list[Any]:
    return list(await asyncio.gather(*calls))


async def poll(
    what: str, probe: Callable[[], Awaitable[Any]], *, within: float = REPLICA_WAIT
) -> Any:
    """Call `probe()` until it answers something truthy, or fail after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise SeedFailed(f"waited {within:.0f}s for {what}; see the services' logs")
        await asyncio.sleep(POLL_INTERVAL)


async def check_gateway(gateway_url: str) -> None:
    try:
        async with httpx.AsyncClient(base_url=gateway_url, timeout=5.0) as client:
            response = await client.get("/healthz")
    except httpx.TransportError as error:
        raise GatewayUnreachable(
            f"the gateway at {gateway_url} does not answer ({error.__class__.__name__}); "
            "start the platform with `make run` first"
        ) from error
    if response.status_code != 200:
        raise GatewayUnreachable(
            f"the gateway at {gateway_url} is not healthy: {describe(response)}"
        )
