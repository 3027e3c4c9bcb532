"""Fixtures of the CRM tests: the service in-process on a migrated database (SQLite and
PostgreSQL), trusting a test signing key."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from crm.config import Settings
from crm.main import create_app
from tests.support.crm import Crm, migrate
from tests.support.identity import jwks_of, new_signer

SIGNER = new_signer("crm-test-key")


@pytest.fixture
def crm_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, jwks=json.dumps(jwks_of(SIGNER)))


@pytest.fixture
async def crm(crm_settings: Settings) -> AsyncIterator[Crm]:
    await migrate(crm_settings.database_url)
    app = create_app(crm_settings)
    workers = app.state.workers
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://crm") as client:
        yield Crm(client, workers.applier(), SIGNER, app.state.engine)
    await app.state.engine.dispose()


@pytest.fixture
async def sales_rep(crm: Crm) -> uuid.UUID:
    return await crm.hire("sales", name="Sam Sales")
