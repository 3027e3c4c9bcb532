"""Migrated databases for tests, fast: each service's migrations run once per test
process into a template (a SQLite file, a PostgreSQL database), and every test's empty
database becomes a copy of it. A copy is the same bytes the migrations wrote, at a small
part of their cost, which otherwise the suite pays for every test."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url

from tests.support.databases import driver_dsn

Build = Callable[[str], Awaitable[None]]

_templates: dict[tuple[str, str], str] = {}
_postgres_templates: list[tuple[URL, str]] = []
_sqlite_folder: Path | None = None
_building = asyncio.Lock()
_enabled = False


@asynccontextmanager
async def templates() -> AsyncIterator[None]:
    """Copy templates inside this block (a test session), and remove them after it; outside
    one (a benchmark) every database is migrated on its own."""
    global _enabled
    _enabled = True
    try:
        yield
    finally:
        _enabled = False
        await _drop_templates()


async def copy_of_template(key: str, database_url: str, build: Build) -> bool:
    """Make the empty database at `database_url` a copy of the template `key`, which
    `build(url)` makes (once per process) on a database of the same server; False, and
    nothing done, when the database is not empty or not SQLite or PostgreSQL."""
    if not _enabled:
        return False
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        target = Path(url.database)
        if target.exists() and target.stat().st_size > 0:
            return False
        template = await _template(("sqlite", key), lambda: _sqlite_template(key, build))
        await asyncio.to_thread(_sqlite_copy, template, target)
        return True
    if url.get_backend_name() == "postgresql" and url.database:
        if not await _postgres_empty(url):
            return False
        server = url.set(database="postgres")
        template = await _template(
            (server.render_as_string(hide_password=False), key),
            lambda: _postgres_template(server, key, build),
        )
        await _postgres_copy(server, template, url.database)
        return True
    return False


async def _drop_templates() -> None:
    global _sqlite_folder
    for server, name in _postgres_templates:
        connection = await asyncpg.connect(driver_dsn(server))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()
    _postgres_templates.clear()
    if _sqlite_folder is not None:
        shutil.rmtree(_sqlite_folder, ignore_errors=True)
        _sqlite_folder = None
    _templates.clear()


async def _template(key: tuple[str, str], make: Callable[[], Awaitable[str]]) -> str:
    async with _building:
        if key not in _templates:
            _templates[key] = await make()
        return _templates[key]


async def _sqlite_template(key: str, build: Build) -> str:
    global _sqlite_folder
    if _sqlite_folder is None:
        _sqlite_folder = Path(tempfile.mkdtemp(prefix="migrated-"))
    path = _sqlite_folder / f"{key}.db"
    await build(f"sqlite+aiosqlite:///{path}")
    return str(path)


def _sqlite_copy(template: str, target: Path) -> None:
    # The backup API copies a consistent image, whatever the template's journal holds.
    source, copy = sqlite3.connect(template), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()


async def _postgres_template(server: URL, key: str, build: Build) -> str:
    name = f"tmpl_{key.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(driver_dsn(server))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    _postgres_templates.append((server, name))
    # The migrations' engine is disposed when they end: nothing stays connected to the
    # template, which PostgreSQL requires of a database it copies.
    await build(server.set(database=name).render_as_string(hide_password=False))
    return name


async def _postgres_empty(url: URL) -> bool:
    """No tables, and no one else connected (who would lose their connection)."""
    connection = await asyncpg.connect(driver_dsn(url))
    try:
        tables = await connection.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
            "'information_schema')"
        )
        others = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return int(tables) == 0 and int(others) == 0


async def _postgres_copy(server: URL, template: str, name: str) -> None:
    connection = await asyncpg.connect(driver_dsn(server))
    try:
        await connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await connection.close()
