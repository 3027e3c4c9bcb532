"""The probe service on the test's own topic and database."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.probe import ProbeService


@pytest.fixture
async def probe(engine: AsyncEngine, topic: str) -> ProbeService:
    service = ProbeService(topic)
    await service.create_schema(engine)
    return service
