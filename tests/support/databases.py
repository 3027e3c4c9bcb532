"""Throwaway databases for tests: a SQLite file, or a fresh PostgreSQL database per test."""

from __future__ import annotations

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


@asynccontextmanager
async def fresh_postgres_database(admin_url: str) -> AsyncIterator[str]:
    """Create an empty database, yield its SQLAlchemy URL, drop it afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(driver_dsn(admin_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(driver_dsn(admin_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


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
