"""Fixtures of the gateway tests: the gateway in-process on a migrated database (SQLite
and PostgreSQL), trusting a test signing key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.config import Settings
from gateway.main import create_app
from tests.support.gateway import SIGNER, Gateway
from tests.support.harness import migrate
from tests.support.identity import jwks_of


@pytest.fixture
def gateway_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, jwks=json.dumps(jwks_of(SIGNER)))


@pytest.fixture
async def gateway(gateway_settings: Settings) -> AsyncIterator[Gateway]:
    await migrate("gateway", gateway_settings.database_url)
    app = create_app(gateway_settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield Gateway(client, gateway_settings, SIGNER)
    await app.state.engine.dispose()
