"""The platform for the end-to-end journeys: the embedded broker, both services as API, relay
and consumer processes and the gateway, started once for the end-to-end tests on free ports, on
PostgreSQL when a server is there (SQLite files otherwise)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from deploy.local.launcher import SERVICES, Platform, Ports
from tests.support.databases import platform_databases
from tests.support.journeys import Gateway, Journeys

LOGS = Path(__file__).resolve().parents[2] / ".data" / "test-logs" / "e2e"


@pytest.fixture(scope="package")
async def platform(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Platform]:
    data = tmp_path_factory.mktemp("platform")
    shutil.rmtree(LOGS, ignore_errors=True)
    async with platform_databases(SERVICES) as database_urls:
        platform = Platform(
            data,
            ports=Ports.free(),
            database_urls=database_urls,
            # A crashed consumer's partitions move to its successor sooner.
            environment={"KAFKA_SESSION_TIMEOUT_MS": "6000"},
            logs=LOGS,
        )
        try:
            await platform.start()
            yield platform
        finally:
            await platform.stop()


@pytest.fixture(scope="package")
async def journeys(platform: Platform) -> AsyncIterator[Journeys]:
    gateway = Gateway(platform.gateway_url)
    try:
        await gateway.sign_in_all()
        yield Journeys(gateway)
    finally:
        await gateway.close()
