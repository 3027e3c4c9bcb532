"""A gateway with chosen edge settings (upstreams, limits, breaker), driven in-process from
a chosen client address, for tests of routing, limits and resilience."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from gateway.config import Settings
from gateway.main import create_app
from tests.support.gateway import SIGNER, Gateway
from tests.support.harness import migrate
from tests.support.identity import jwks_of

JWKS = json.dumps(jwks_of(SIGNER))


@dataclass
class EdgeGateway(Gateway):
    app: FastAPI

    def client_from(self, address: str) -> httpx.AsyncClient:
        """Another client of the same gateway, its requests coming from `address`."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 40_000))
        return httpx.AsyncClient(transport=transport, base_url="http://gateway")


@asynccontextmanager
async def edge_gateway(
    database_url: str, *, address: str = "127.0.0.1", migrated: bool = False, **settings: Any
) -> AsyncIterator[EdgeGateway]:
    """The gateway on `database_url` (migrated first unless `migrated`), trusting the
    test key, its requests coming from `address`."""
    if not migrated:
        await migrate("gateway", database_url)
    app = create_app(Settings(database_url=database_url, jwks=JWKS, **settings))
    transport = httpx.ASGITransport(app=app, client=(address, 40_000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield EdgeGateway(client, app.state.settings, SIGNER, app)
    finally:
        for upstream in app.state.upstreams.values():
            await upstream.close()
        await app.state.rate_limits.close()
        await app.state.engine.dispose()


def bearer(role: str, subject: str | None = None) -> dict[str, str]:
    token = SIGNER.issue(subject=subject or f"user-{role}", roles=[role], employee_id=None)
    return {"Authorization": f"Bearer {token}"}
