"""Whether a database's schema is ready for this build of a service: migrated to the
newest revision the build knows, or past it (a later release migrated it first; schema
changes are expand/contract, so the older build works on the newer schema).

A process started before its migration finished would fail on missing tables and be
restarted with growing back-off; `<service>-wait-for-schema` runs before it instead (an
init container in Kubernetes) and returns once the migration is in.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.database import create_engine, is_database_outage

log = logging.getLogger(__name__)


async def schema_is_ready(engine: AsyncEngine, script: ScriptDirectory) -> bool:
    """True when the database is at this build's head revision or beyond it."""
    async with engine.connect() as connection:
        current = await connection.run_sync(_current_revisions)
    if not current:
        return False  # never migrated
    head = script.get_current_head()
    known = {revision.revision for revision in script.walk_revisions()}
    return head in current or not current <= known


def _current_revisions(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


async def wait_for_schema(
    database_url: str, script: ScriptDirectory, *, give_up_after: float, interval: float = 2.0
) -> bool:
    """Poll until the schema is ready (True) or `give_up_after` seconds have passed
    (False, after one check at least); a database that does not answer counts as not
    ready."""
    deadline = time.monotonic() + give_up_after
    engine = create_engine(database_url)
    try:
        while True:
            try:
                if await schema_is_ready(engine, script):
                    return True
                head = script.get_current_head()
                log.info("waiting for the database to be migrated to %s", head)
            except Exception as exc:
                if not is_database_outage(exc):
                    raise
                log.info("waiting for the database to answer: %s", exc)
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(interval)
    finally:
        await engine.dispose()


def main(database_url: str, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--config", default="alembic.ini", help="the service's alembic.ini")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait at most")
    args = parser.parse_args(argv)
    script = ScriptDirectory.from_config(Config(args.config))
    if asyncio.run(wait_for_schema(database_url, script, give_up_after=args.timeout)):
        log.info("the database schema is at %s or later", script.get_current_head())
        return 0
    log.error("the database was not migrated within %s s", args.timeout)
    return 1
