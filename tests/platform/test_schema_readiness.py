"""`<service>-wait-for-schema`, run before each process of a service starts: it returns
once the database is migrated for this build, or past it by a later release, and keeps
waiting (then fails) while the database is behind or not migrated at all."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from shared_schemas.database import create_engine
from shared_schemas.schema_version import schema_is_ready
from tests.support.harness import upgrade

pytestmark = pytest.mark.api

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = ROOT / "crm-service" / "alembic.ini"


async def migrate(database_url: str, revision: str) -> None:
    await upgrade("crm-service", database_url, revision)


async def test_the_schema_is_ready_at_the_build_s_head_or_beyond(database_url: str) -> None:
    script = ScriptDirectory.from_config(Config(str(ALEMBIC_INI)))
    engine = create_engine(database_url)
    try:
        assert not await schema_is_ready(engine, script)  # never migrated

        await migrate(database_url, "0002")
        assert not await schema_is_ready(engine, script)  # behind this build

        await migrate(database_url, "head")
        assert await schema_is_ready(engine, script)

        # A later release migrated further; this build runs on its expanded schema.
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
        assert await schema_is_ready(engine, script)
    finally:
        await engine.dispose()


async def start_waiting(database_url: str, *arguments: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("crm-wait-for-schema")),
        "--config",
        str(ALEMBIC_INI),
        *arguments,
        env={**os.environ, "CRM_DATABASE_URL": database_url},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def logged(stream: asyncio.StreamReader, text: bytes) -> None:
    while text not in (line := await stream.readline()):
        assert line, f"the process ended without logging {text!r}"


async def test_the_wait_returns_once_the_migration_is_in(database_url: str) -> None:
    waiting = await start_waiting(database_url, "--timeout", "120")
    try:
        assert waiting.stderr is not None
        await asyncio.wait_for(logged(waiting.stderr, b"waiting for the database"), 60)
        assert waiting.returncode is None

        await migrate(database_url, "head")
        assert await asyncio.wait_for(waiting.wait(), 60) == 0
    finally:
        if waiting.returncode is None:
            waiting.kill()
        await waiting.wait()


async def test_the_wait_fails_when_the_migration_never_comes(database_url: str) -> None:
    await migrate(database_url, "0002")
    waiting = await start_waiting(database_url, "--timeout", "0")
    _, errors = await asyncio.wait_for(waiting.communicate(), 60)
    assert waiting.returncode == 1
    assert b"was not migrated within" in errors
