"""`/metrics` while the service's database cannot answer: the gauges read from it keep
their last value, and the others (a broker's state) are still refreshed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client import Gauge
from sqlalchemy import MetaData

from shared_schemas.database import create_engine
from shared_schemas.messaging import KafkaSettings, Workers, messaging_tables
from shared_schemas.messaging.metrics import OUTBOX_BACKLOG
from shared_schemas.service import create_service_app
from tests.support.identity import ProtectedSettings

pytestmark = pytest.mark.api

OTHER_SOURCE = Gauge("test_scrape_other_source_up", "A gauge fed by something else than the db")


async def test_a_failing_database_gauge_does_not_freeze_the_others(tmp_path: Path) -> None:
    # The database has none of the service's tables: reading the outbox gauges fails.
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    readings = iter([1, 0])
    OUTBOX_BACKLOG.set(7)  # what the last successful read saw

    async def refresh_other() -> None:
        OTHER_SOURCE.set(next(readings))

    app = create_service_app(
        service="crm",
        title="test",
        description="",
        settings=ProtectedSettings(),
        engine=engine,
        workers=Workers(
            name="test", engine=engine, tables=messaging_tables(MetaData()), kafka=KafkaSettings()
        ),
        routers=[],
        refresh_metrics=[refresh_other],
    )
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            first = await client.get("/metrics")
            assert first.status_code == 200
            assert "test_scrape_other_source_up 1.0" in first.text
            second = await client.get("/metrics")
            assert second.status_code == 200
            assert "test_scrape_other_source_up 0.0" in second.text
            for scrape in (first, second):
                assert "\noutbox_backlog 7.0\n" in scrape.text, "a gauge of the database kept"
    finally:
        await engine.dispose()
