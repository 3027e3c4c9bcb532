"""Fixtures of the ERP tests: the service in-process on a migrated database (SQLite and
PostgreSQL), trusting a test signing key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from erp.config import Settings
from erp.main import create_app
from tests.support.erp import Erp, migrate
from tests.support.identity import jwks_of, new_signer

SIGNER = new_signer("erp-test-key")


@pytest.fixture
def erp_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, jwks=json.dumps(jwks_of(SIGNER)))


@pytest.fixture
async def erp(erp_settings: Settings) -> AsyncIterator[Erp]:
    await migrate(erp_settings.database_url)
    app = create_app(erp_settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://erp") as client:
        yield Erp(client, app.state.workers.applier(), SIGNER, app.state.engine)
    await app.state.engine.dispose()
