"""Network faults between the Kafka clients (relay, consumer) and the broker, through a
TCP proxy the broker advertises as its own address, so every client connection passes
it: connections reset mid-stream, and a link that stops passing bytes for longer than the
clients' request and session timeouts, lose no event, apply none twice and never move an
aggregate backwards."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.broker import EmbeddedBroker, free_port
from shared_schemas.messaging.kafka import KafkaSettings
from shared_schemas.messaging.relay import Relay
from tests.support.kafka_tools import eventually, new_consumer_group, running
from tests.support.network import TcpProxy
from tests.support.probe import ProbeService

pytestmark = pytest.mark.reliability

AGGREGATES, VERSIONS = 8, 24
RESET_EVERY = 5  # rounds of writes
FROZEN_ROUNDS = range(12, 16)  # written while the link passes nothing
FROZEN_ROUND_SECONDS = 2.5  # 10 s frozen: past the request (5 s) and session (6 s) timeouts


@pytest.fixture
async def proxied() -> AsyncIterator[tuple[TcpProxy, KafkaSettings, str]]:
    """A broker of the test's own behind a proxy, with a topic of 3 partitions."""
    topic = f"test.{uuid.uuid4().hex[:12]}"
    broker_port = free_port()
    proxy = TcpProxy("127.0.0.1", broker_port)
    await proxy.restore()
    broker = EmbeddedBroker(broker_port, advertised_port=proxy.port, topics=[(topic, 3)])
    await broker.start()
    kafka = KafkaSettings(
        bootstrap_servers=f"127.0.0.1:{proxy.port}",
        session_timeout_ms=6_000,
        request_timeout_ms=5_000,
    )
    try:
        yield proxy, kafka, topic
    finally:
        await proxy.close()
        broker.stop()


async def test_resets_and_a_frozen_link_lose_nothing_double_nothing_reorder_nothing(
    engine: AsyncEngine, proxied: tuple[TcpProxy, KafkaSettings, str]
) -> None:
    proxy, kafka, topic = proxied
    probe = ProbeService(topic)
    await probe.create_schema(engine)
    group = await new_consumer_group(kafka)
    aggregates = [uuid.uuid4() for _ in range(AGGREGATES)]
    sent: list[uuid.UUID] = []

    relay = Relay(engine, probe.tables.outbox, kafka, name="probe", max_backoff=0.5)
    consumer = probe.consumer(engine, kafka, group, batch_size=20)
    async with running(relay, consumer):
        await asyncio.wait_for(consumer.assigned.wait(), 60)
        connected = proxy.connections
        for version in range(1, VERSIONS + 1):
            items = [(aggregate, version) for aggregate in aggregates]
            sent.extend(await probe.write_many(engine, items, per_transaction=4))
            if version % RESET_EVERY == 0:
                proxy.reset()
            if version == FROZEN_ROUNDS.start:
                proxy.freeze()
            if version in FROZEN_ROUNDS:
                await asyncio.sleep(FROZEN_ROUND_SECONDS)
                # What was under way when the link froze is applied by the next round;
                # after that, nothing: every connection of the clients is through here.
                if version == FROZEN_ROUNDS.start + 1:
                    applied_while_frozen = await probe.applied_count(engine)
                elif version == FROZEN_ROUNDS[-1]:
                    assert await probe.applied_count(engine) == applied_while_frozen
            else:
                proxy.thaw()
                await asyncio.sleep(0.05)  # a steady stream, not one burst

        async def converged() -> bool:
            applied = await probe.applied_versions(engine)
            return all(applied.get(a, [0])[-1] == VERSIONS for a in aggregates)

        await eventually(converged, timeout=180, what="every aggregate at its last version")

    assert proxy.connections > connected, "the clients never had to reconnect"
    applied_ids = await probe.applied_event_ids(engine)
    assert set(applied_ids) <= set(sent), "an event was invented"
    assert [n for n in Counter(applied_ids).values() if n > 1] == [], "an event applied twice"
    for aggregate, versions in (await probe.applied_versions(engine)).items():
        # A version may be superseded by a later one that arrived first (a resent batch),
        # never applied after it.
        assert versions == sorted(set(versions)), f"{aggregate} went backwards: {versions}"
