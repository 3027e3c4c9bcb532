"""Periodic jobs that run once per interval across every replica of a service.

Two guards: a compare-and-set on the job's `last_started_at` row makes one replica win
each interval (on SQLite and PostgreSQL alike), and on PostgreSQL a session advisory lock
held while the job runs keeps a slow run from overlapping the next one.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared_schemas.messaging.metrics import JOB_RUNS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval: timedelta
    run: Callable[[], Awaitable[object]]


class JobRunner:
    def __init__(
        self,
        engine: AsyncEngine,
        job_runs: Table,
        jobs: Sequence[PeriodicJob],
        *,
        tick: float = 1.0,
    ) -> None:
        self.engine = engine
        self.job_runs = job_runs
        self.jobs = list(jobs)
        self.tick = tick
        self._postgres = engine.dialect.name == "postgresql"
        self._stopping = asyncio.Event()

    def request_stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_due()
            except (SQLAlchemyError, OSError) as exc:
                log.warning("periodic jobs: database unavailable: %s", exc)
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self.tick)
            except TimeoutError:
                continue

    async def run_due(self, now: datetime | None = None) -> list[str]:
        """Run every job that is due and that no other replica runs; return their names."""
        ran = []
        for job in self.jobs:
            if await self._run_if_due(job, now or datetime.now(UTC)):
                ran.append(job.name)
        return ran

    async def _run_if_due(self, job: PeriodicJob, now: datetime) -> bool:
        if not self._postgres:
            return await self._claim_and_run(job, now)
        async with self.engine.connect() as lock_connection:
            if not await self._try_lock(lock_connection, job.name):
                return False
            try:
                return await self._claim_and_run(job, now)
            finally:
                await self._unlock(lock_connection, job.name)

    async def _claim_and_run(self, job: PeriodicJob, now: datetime) -> bool:
        if not await self._claim(job, now):
            return False
        error = None
        try:
            await job.run()
            JOB_RUNS.labels(job.name, "ok").inc()
        except Exception as exc:
            # A failing job must not stop the others; it runs again next interval.
            JOB_RUNS.labels(job.name, "error").inc()
            log.exception("periodic job %s failed", job.name)
            error = f"{type(exc).__name__}: {exc}"[:2000]
        await self._finish(job, error)
        return True

    async def _claim(self, job: PeriodicJob, now: datetime) -> bool:
        table = self.job_runs
        insert = postgresql_insert if self._postgres else sqlite_insert
        async with self.engine.begin() as connection:
            await connection.execute(insert(table).values(name=job.name).on_conflict_do_nothing())
            result = await connection.execute(
                update(table)
                .where(
                    table.c.name == job.name,
                    or_(
                        table.c.last_started_at.is_(None),
                        table.c.last_started_at <= now - job.interval,
                    ),
                )
                .values(last_started_at=now)
            )
        return bool(result.rowcount)

    async def _finish(self, job: PeriodicJob, error: str | None) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                update(self.job_runs)
                .where(self.job_runs.c.name == job.name)
                .values(last_finished_at=datetime.now(UTC), last_error=error)
            )

    async def _try_lock(self, connection: AsyncConnection, name: str) -> bool:
        result = await connection.execute(select(func.pg_try_advisory_lock(_lock_key(name))))
        await connection.commit()
        return bool(result.scalar())

    async def _unlock(self, connection: AsyncConnection, name: str) -> None:
        await connection.execute(select(func.pg_advisory_unlock(_lock_key(name))))
        await connection.commit()


def _lock_key(name: str) -> int:
    return zlib.crc32(f"job:{name}".encode())
