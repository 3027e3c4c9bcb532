"""Each service runs as `api`, `relay` and `consumer` processes, or all three in the API
process when asked; each starts against the real broker and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared_schemas.broker import free_port
from shared_schemas.database import create_engine
from shared_schemas.messaging import KafkaSettings, Outbox
from tests.support.harness import migrate
from tests.support.kafka_tools import eventually, read_topic
from tests.support.probe import probe_event
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

SERVICES = {"crm": "crm-service", "erp": "erp-service"}
STARTUP_SECONDS = 90


async def started(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """`eventually`, with room for a process to start on a loaded machine (its imports
    alone take seconds there); a deadline, never a wait when all is well."""
    await eventually(check, timeout=STARTUP_SECONDS, what=what)


async def record_probe(service: str, database_url: str, topic: str) -> uuid.UUID:
    """A committed event in the service's own outbox, as a use case would leave it."""
    orm = __import__(f"{service}.adapters.orm", fromlist=["messaging"])
    outbox = Outbox(orm.messaging.outbox, source=SERVICES[service])
    engine = create_engine(database_url)
    try:
        async with AsyncSession(engine) as session, session.begin():
            event_type = probe_event(topic)
            event = await outbox.record(
                session, event_type(probe_id=uuid.uuid4(), seq=1, version=1)
            )
    finally:
        await engine.dispose()
    return event.id


async def published(service: str, database_url: str) -> bool:
    orm = __import__(f"{service}.adapters.orm", fromlist=["messaging"])
    table = orm.messaging.outbox
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            pending = await connection.execute(
                select(table.c.id).where(table.c.published_at.is_(None))
            )
            return pending.first() is None
    finally:
        await engine.dispose()


async def on_topic(kafka: KafkaSettings, topic: str, event_id: uuid.UUID) -> bool:
    return any(str(event_id).encode() in record.value for record in await read_topic(kafka, topic))


async def metrics_of_url(url: str) -> str:
    async with httpx.AsyncClient(timeout=2) as client:
        return (await client.get(url)).text


async def metrics_of(port: int) -> str:
    return await metrics_of_url(f"http://127.0.0.1:{port}/metrics")


def stopped_gracefully(api: ServiceProcess) -> None:
    # Uvicorn shuts down gracefully on SIGTERM, then re-raises it (exit -15) on purpose.
    code = api.terminate()
    assert code in (0, -signal.SIGTERM), api.output()
    assert "Application shutdown complete" in api.output()


async def answers(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(url)).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.parametrize("service", SERVICES)
async def test_relay_and_consumer_processes_run_and_stop_cleanly(
    service: str, database_url: str, kafka: KafkaSettings, topic: str, tmp_path: Path
) -> None:
    await migrate(SERVICES[service], database_url)
    event_id = await record_probe(service, database_url, topic)
    prefix = service.upper()
    relay_metrics, consumer_metrics = free_port(), free_port()
    env = {
        f"{prefix}_DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        f"{prefix}_RELAY_METRICS_PORT": str(relay_metrics),
        f"{prefix}_CONSUMER_METRICS_PORT": str(consumer_metrics),
    }
    relay = ServiceProcess(f"{service}-relay", env, tmp_path / "relay.log")
    consumer = ServiceProcess(f"{service}-consumer", env, tmp_path / "consumer.log")
    try:
        await started(lambda: on_topic(kafka, topic, event_id), "event on the topic")
        await started(lambda: published(service, database_url), "outbox row marked")
        await started(lambda: answers(f"http://127.0.0.1:{relay_metrics}/metrics"), "relay metrics")
        assert f'events_published_total{{topic="{topic}"}} 1.0' in await metrics_of(relay_metrics)
        await started(
            lambda: answers(f"http://127.0.0.1:{consumer_metrics}/metrics"), "consumer metrics"
        )
        assert consumer.running()
        assert relay.running()
    finally:
        relay_code = relay.terminate()
        consumer_code = consumer.terminate()
    assert relay_code == 0, relay.output()
    assert consumer_code == 0, consumer.output()


@pytest.mark.parametrize("service", SERVICES)
async def test_api_process_alone_or_with_its_workers_inside(
    service: str, database_url: str, kafka: KafkaSettings, topic: str, tmp_path: Path
) -> None:
    await migrate(SERVICES[service], database_url)
    event_id = await record_probe(service, database_url, topic)
    prefix, port = service.upper(), free_port()
    env = {
        f"{prefix}_DATABASE_URL": database_url,
        f"{prefix}_PORT": str(port),
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
    }
    base = f"http://127.0.0.1:{port}"
    alone = ServiceProcess(f"{service}-api", env, tmp_path / "api.log")
    try:
        await started(lambda: answers(f"{base}/readyz"), "API ready")
        assert not await published(service, database_url), "the API alone publishes nothing"
    finally:
        stopped_gracefully(alone)

    combined = ServiceProcess(
        f"{service}-api", {**env, f"{prefix}_RUN_WORKERS_IN_API": "true"}, tmp_path / "all.log"
    )
    try:
        await started(lambda: answers(f"{base}/readyz"), "API ready")
        await started(lambda: on_topic(kafka, topic, event_id), "relayed by the API")

        # Published first, marked published just after: the backlog drains to zero.
        async def drained() -> bool:
            return "outbox_backlog 0.0" in await metrics_of_url(f"{base}/metrics")

        await started(drained, "outbox backlog 0 in the API's metrics")
        assert "http_request_duration_seconds" in await metrics_of_url(f"{base}/metrics")
    finally:
        stopped_gracefully(combined)


async def test_gateway_process_starts_and_stops(database_url: str, tmp_path: Path) -> None:
    await migrate("gateway", database_url)
    port = free_port()
    env = {"GATEWAY_DATABASE_URL": database_url, "GATEWAY_PORT": str(port)}
    gateway = ServiceProcess("gateway-api", env, tmp_path / "gateway.log")
    try:
        await started(lambda: answers(f"http://127.0.0.1:{port}/readyz"), "gateway")
    finally:
        stopped_gracefully(gateway)
