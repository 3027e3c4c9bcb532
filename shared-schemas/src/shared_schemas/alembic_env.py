"""The body of every service's Alembic `env.py`: async, SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import MetaData, TypeDecorator
from sqlalchemy.engine import Connection

from shared_schemas.database import create_engine, is_sqlite


def run_migrations(target_metadata: MetaData, database_url: str) -> None:
    """Run the pending migrations of the current Alembic context against `database_url`."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url") or database_url
    options: dict[str, Any] = {
        "target_metadata": target_metadata,
        # SQLite alters tables by copying them; batch mode does that for us.
        "render_as_batch": is_sqlite(url),
        "compare_type": True,
        "render_item": _render_item,
    }
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, options))


def _render_item(kind: str, item: Any, autogen_context: Any) -> str | bool:
    # A migration is a frozen snapshot: it names the stored type (`sa.DateTime(...)`),
    # never an application type that may change or move later.
    if kind == "type" and isinstance(item, TypeDecorator):
        autogen_context.imports.add("import sqlalchemy as sa")
        return f"sa.{item.impl!r}"
    return False


async def _run_online(url: str, options: dict[str, Any]) -> None:
    engine = create_engine(url, timeout=None)  # a migration may take its time
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync, options)
            await connection.commit()
    finally:
        await engine.dispose()


def _run_sync(connection: Connection, options: dict[str, Any]) -> None:
    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()
