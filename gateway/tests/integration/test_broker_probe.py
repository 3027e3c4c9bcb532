"""The gateway's health details and metrics against the real broker: it answers, so the
gateway reports it up."""

from __future__ import annotations

import asyncio

import pytest

from shared_schemas.broker import EmbeddedBroker
from tests.support.edge import edge_gateway

pytestmark = pytest.mark.integration


async def test_a_running_broker_is_reported_up(
    database_url: str, broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap_servers)
    async with edge_gateway(database_url) as gateway:
        client = gateway.client
        async with asyncio.timeout(10):
            health = await client.get("/healthz", params={"details": "true"})
        assert health.status_code == 200
        assert health.json()["broker"]["state"] == "ok"
        assert "detail" not in health.json()["broker"]
        assert "gateway_broker_up 1.0" in (await client.get("/metrics")).text
