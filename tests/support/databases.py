"""Throwaway databases for tests: a SQLite file, or a fresh PostgreSQL database per test."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager

import asyncpg
from sqlalchemy.engine import URL, make_url

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str | None:
    """The server tests create their databases on.

    `TEST_POSTGRES_URL` makes PostgreSQL mandatory (CI sets it, so a missing server fails
    the run instead of silently skipping half the suite); without it a server on
    127.0.0.1:5432 is used when one answers.
    """
    explicit = os.environ.get("TEST_POSTGRES_URL")
    if explicit:
        return explicit
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=0.5).close()
    except OSError:
        return None
    return DEFAULT_POSTGRES


def postgres_required() -> bool:
    return bool(os.environ.get("TEST_POSTGRES_URL"))


def driver_dsn(url: str | URL) -> str:
    """The URL as asyncpg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _create_empty(admin_url: str) -> str:
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(driver_dsn(admin_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return name


async def _drop(admin_url: str, name: str) -> None:
    admin = await asyncpg.connect(driver_dsn(admin_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


class SpareDatabases:
    """Empty databases made one ahead: the next test's is created (copying template1 takes
    a good part of a second) while the current test runs, on the session's event loop."""

    def __init__(self) -> None:
        self._next: dict[str, asyncio.Task[str]] = {}

    async def take(self, admin_url: str) -> str:
        spare = self._next.pop(admin_url, None)
        loop = asyncio.get_running_loop()
        name = None
        if spare is not None and spare.get_loop() is loop:
            with contextlib.suppress(Exception):  # made anew below, failing visibly
                name = await spare
        self._next[admin_url] = loop.create_task(_create_empty(admin_url))
        return name or await _create_empty(admin_url)

    async def drop_all(self) -> None:
        spares, self._next = self._next, {}
        for admin_url, spare in spares.items():
            with contextlib.suppress(Exception):  # nothing was made
                await _drop(admin_url, await spare)


spare_databases: SpareDatabases | None = None
"""Set for a test session (tests/support/fixtures.py); None elsewhere (benchmarks)."""


@asynccontextmanager
async def fresh_postgres_database(admin_url: str) -> AsyncIterator[str]:
    """Create an empty database, yield its SQLAlchemy URL, drop it afterwards."""
    if spare_databases is not None:
        name = await spare_databases.take(admin_url)
    else:
        name = await _create_empty(admin_url)
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await _drop(admin_url, name)


@asynccontextmanager
async def platform_databases(services: Iterable[str]) -> AsyncIterator[dict[str, str] | None]:
    """A fresh PostgreSQL database per service when a server answers (dropped afterwards);
    None otherwise, for the platform's SQLite defaults."""
    admin_url = postgres_admin_url()
    if admin_url is None:
        yield None
        return
    async with AsyncExitStack() as stack:
        yield {
            service: await stack.enter_async_context(fresh_postgres_database(admin_url))
            for service in services
        }
