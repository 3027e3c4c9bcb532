"""Outbox → relay → broker → idempotent consumer, on SQLite and PostgreSQL, real broker."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared_schemas.broker import EmbeddedBroker, free_port
from shared_schemas.database import create_engine, session_factory
from shared_schemas.messaging.consumer import Consumer
from shared_schemas.messaging.kafka import KafkaSettings
from shared_schemas.messaging.relay import Relay, republish
from tests.support.kafka_tools import eventually, new_consumer_group, read_topic, running
from tests.support.probe import ProbeService

pytestmark = pytest.mark.integration


def make_relay(
    engine: AsyncEngine, probe: ProbeService, kafka: KafkaSettings, **options: object
) -> Relay:
    return Relay(engine, probe.tables.outbox, kafka, name="probe", **options)  # type: ignore[arg-type]


async def make_consumer(
    engine: AsyncEngine, probe: ProbeService, kafka: KafkaSettings, **options: object
) -> Consumer:
    return probe.consumer(engine, kafka, await new_consumer_group(kafka), **options)


async def test_rolled_back_write_leaves_no_outbox_row_and_publishes_nothing(
    engine: AsyncEngine, probe: ProbeService, kafka: KafkaSettings, topic: str
) -> None:
    doomed, marker = uuid.uuid4(), uuid.uuid4()

    async def write_then_break_a_rule() -> None:
        async with AsyncSession(engine) as session, session.begin():
            await probe.write(session, doomed, 1)
            raise RuntimeError("business rule broken")

    with pytest.raises(RuntimeError, match="business rule broken"):
        await write_then_break_a_rule()
    assert await probe.outbox_count(engine) == 0

    async with AsyncSession(engine) as session, session.begin():
        await probe.write(session, marker, 1)
    consumer = await make_consumer(engine, probe, kafka)
    async with running(make_relay(engine, probe, kafka), consumer):
        await eventually(
            lambda: _applied_probes_are(engine, probe, {marker}), what="marker applied"
        )

    on_topic = await read_topic(kafka, topic)
    assert [record.key for record in on_topic] == [str(marker).encode()]
    assert await probe.outbox_count(engine) == 1


async def _applied_probes_are(
    engine: AsyncEngine, probe: ProbeService, expected: set[uuid.UUID]
) -> bool:
    async with engine.connect() as connection:
        rows = (await connection.execute(select(probe.applied.c.probe_id))).scalars().all()
    return set(rows) == expected


async def test_events_of_one_aggregate_are_applied_in_order(
    engine: AsyncEngine, probe: ProbeService, kafka: KafkaSettings
) -> None:
    aggregates = [uuid.uuid4() for _ in range(6)]
    versions = 30
    # Interleave the aggregates' versions across many small transactions.
    items = [(aggregate, seq) for seq in range(1, versions + 1) for aggregate in aggregates]
    await probe.write_many(engine, items, per_transaction=4)

    # Two relays on PostgreSQL (replicas claiming key buckets); SQLite runs one.
    relays = [make_relay(engine, probe, kafka, batch_size=7)]
    if engine.dialect.name == "postgresql":
        relays.append(make_relay(engine, probe, kafka, batch_size=7))
    consumer = await make_consumer(engine, probe, kafka)
    async with running(*relays, consumer):
        await eventually(
            lambda: _count_is(engine, probe, len(items)), timeout=60, what="all events applied"
        )

    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(probe.applied.c.probe_id, probe.applied.c.seq).order_by(probe.applied.c.id)
            )
        ).all()
    applied_order: dict[uuid.UUID, list[int]] = defaultdict(list)
    for probe_id, seq in rows:
        applied_order[probe_id].append(seq)
    assert applied_order == {aggregate: list(range(1, versions + 1)) for aggregate in aggregates}


async def _count_is(engine: AsyncEngine, probe: ProbeService, expected: int) -> bool:
    return await probe.applied_count(engine) == expected


async def test_relay_wakes_on_commit_without_polling(
    database_url: str, kafka: KafkaSettings, topic: str
) -> None:
    """On PostgreSQL the relay is woken by NOTIFY; its fallback poll is set far away here."""
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite polls every 50 ms")
    engine = create_engine(database_url)
    probe = ProbeService(topic)
    await probe.create_schema(engine)
    relay = make_relay(engine, probe, kafka, notify_fallback_interval=120.0)
    consumer = await make_consumer(engine, probe, kafka)
    try:
        async with running(relay, consumer):
            # A first event through: the relay has listened, published and found nothing
            # more, so it is idle until a notification (or the fallback poll far away).
            first = uuid.uuid4()
            async with AsyncSession(engine) as session, session.begin():
                await probe.write(session, first, 1)
            await eventually(
                lambda: _applied_probes_are(engine, probe, {first}), what="first event applied"
            )
            aggregate = uuid.uuid4()
            async with AsyncSession(engine) as session, session.begin():
                await probe.write(session, aggregate, 1)
            await eventually(
                lambda: _applied_probes_are(engine, probe, {first, aggregate}),
                timeout=15,
                what="event delivered well before the 120 s fallback poll",
            )
    finally:
        await engine.dispose()


async def test_republish_after_broker_restart_restores_consumer_state(database_url: str) -> None:
    """The broker loses everything on restart; `republish(since)` refills it from the outbox."""
    topic = f"test.{uuid.uuid4().hex[:12]}"
    group = f"probe-{uuid.uuid4().hex[:8]}"
    private = EmbeddedBroker(free_port(), topics=[(topic, 3), (f"dlq.{group}", 1)])
    await private.start()
    kafka = KafkaSettings(bootstrap_servers=private.bootstrap_servers, session_timeout_ms=6_000)
    engine = create_engine(database_url)
    probe = ProbeService(topic)
    await probe.create_schema(engine)
    since = datetime.now(UTC)
    first = [(uuid.uuid4(), 1) for _ in range(10)]
    later = [(uuid.uuid4(), 1) for _ in range(20)]

    def consumer() -> Consumer:
        return Consumer(
            group=group,
            sessions=session_factory(engine),
            inbox=probe.tables.inbox,
            handlers={probe.event: probe.handler()},
            kafka=kafka,
        )

    try:
        relay = make_relay(engine, probe, kafka)
        async with running(relay, consumer()):
            await probe.write_many(engine, first, per_transaction=5)
            await eventually(lambda: _count_is(engine, probe, 10), what="first events applied")
        # The consumer is away while the rest is published, then the broker crashes.
        async with running(make_relay(engine, probe, kafka)):
            await probe.write_many(engine, later, per_transaction=5)
            await eventually(lambda: _all_published(engine, probe), what="later events published")
        private.stop()
        await private.start()
        assert await read_topic(kafka, topic) == []

        republished = await republish(engine, probe.tables.outbox, since)
        assert republished == 30
        async with running(make_relay(engine, probe, kafka), consumer()):
            await eventually(
                lambda: _count_is(engine, probe, 30), timeout=60, what="complete state"
            )
        applied = await probe.applied_event_ids(engine)
        assert len(applied) == len(set(applied)) == 30
        assert await _applied_probes_are(engine, probe, {p for p, _ in first + later})
    finally:
        await engine.dispose()
        private.stop()


async def _all_published(engine: AsyncEngine, probe: ProbeService) -> bool:
    return await probe.outbox_count(engine, unpublished=True) == 0
