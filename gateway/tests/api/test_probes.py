"""The gateway answers its probes without a token, on its own database."""

from __future__ import annotations

import pytest

from tests.support.gateway import Gateway

pytestmark = pytest.mark.api


async def test_the_gateway_is_alive_and_ready_on_its_database(gateway: Gateway) -> None:
    client = gateway.client
    assert (await client.get("/healthz")).status_code == 200
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
