"""What the relay's gauges say while it cannot publish: the backlog and the age of the
oldest pending event keep following the outbox, so the "events not leaving" alert fires
while the broker is away, including for a relay (re)started during the outage."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.broker import free_port
from shared_schemas.messaging.kafka import KafkaSettings
from shared_schemas.messaging.metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE
from shared_schemas.messaging.relay import Relay
from tests.support.kafka_tools import eventually, running
from tests.support.probe import ProbeService

pytestmark = pytest.mark.integration


def gauge(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_the_backlog_gauges_follow_the_outbox_while_no_broker_answers(
    engine: AsyncEngine, probe: ProbeService
) -> None:
    nobody = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}", request_timeout_ms=1000)
    await probe.write_many(engine, [(uuid.uuid4(), 1) for _ in range(3)], per_transaction=3)
    # What a previous relay process reported, or nothing: a fresh process starts at zero.
    OUTBOX_BACKLOG.set(0)
    OUTBOX_OLDEST_AGE.set(0)
    relay = Relay(
        engine, probe.tables.outbox, nobody, name="probe", gauge_interval=0.05, max_backoff=0.2
    )
    async with running(relay):
        await eventually(lambda: backlog_is(3), what="the backlog of 3 reported")
        await probe.write_many(engine, [(uuid.uuid4(), 2) for _ in range(2)], per_transaction=2)
        await eventually(lambda: backlog_is(5), what="the backlog of 5 reported")
    assert gauge("outbox_oldest_unpublished_age_seconds") > 0
    assert await probe.outbox_count(engine, unpublished=True) == 5


async def backlog_is(expected: int) -> bool:
    return gauge("outbox_backlog") == expected
