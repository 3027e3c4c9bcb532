"""Periodic jobs run once per interval across replicas, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.messaging.jobs import JobRunner, PeriodicJob
from shared_schemas.messaging.tables import MessagingTables, messaging_tables

pytestmark = pytest.mark.integration


@pytest.fixture
async def tables(engine: AsyncEngine) -> MessagingTables:
    metadata = MetaData()
    tables = messaging_tables(metadata)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return tables


class CountingJob:
    def __init__(self, name: str, interval: timedelta, *, slow: float = 0.0) -> None:
        self.runs = 0
        self.slow = slow
        self.job = PeriodicJob(name, interval, self.run)

    async def run(self) -> None:
        self.runs += 1
        await asyncio.sleep(self.slow)


async def test_two_replicas_run_a_job_once_per_interval(
    engine: AsyncEngine, tables: MessagingTables
) -> None:
    sweep = CountingJob("expire-quotes", timedelta(minutes=5))
    replica_a = JobRunner(engine, tables.job_runs, [sweep.job])
    replica_b = JobRunner(engine, tables.job_runs, [sweep.job])
    start = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    assert await replica_a.run_due(start) == ["expire-quotes"]
    assert await replica_b.run_due(start + timedelta(seconds=1)) == []
    assert await replica_a.run_due(start + timedelta(minutes=4)) == []
    assert await replica_b.run_due(start + timedelta(minutes=5)) == ["expire-quotes"]
    assert sweep.runs == 2


async def test_replicas_racing_for_the_same_run_run_it_once(
    engine: AsyncEngine, tables: MessagingTables
) -> None:
    sweep = CountingJob("overdue-sweep", timedelta(hours=1), slow=0.2)
    replicas = [JobRunner(engine, tables.job_runs, [sweep.job]) for _ in range(4)]
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    results = await asyncio.gather(*(replica.run_due(now) for replica in replicas))
    assert sorted(len(ran) for ran in results) == [0, 0, 0, 1]
    assert sweep.runs == 1


async def test_a_failing_job_records_its_error_and_others_still_run(
    engine: AsyncEngine, tables: MessagingTables
) -> None:
    async def broken() -> None:
        raise ValueError("ledger closed")

    healthy = CountingJob("prune-outbox", timedelta(hours=1))
    runner = JobRunner(
        engine,
        tables.job_runs,
        [PeriodicJob("broken", timedelta(hours=1), broken), healthy.job],
    )
    assert await runner.run_due(datetime(2026, 11, 22, tzinfo=UTC)) == ["broken", "prune-outbox"]
    assert healthy.runs == 1
    async with engine.connect() as connection:
        error = (
            await connection.execute(
                select(tables.job_runs.c.last_error).where(tables.job_runs.c.name == "broken")
            )
        ).scalar_one()
    assert error == "ValueError: ledger closed"
