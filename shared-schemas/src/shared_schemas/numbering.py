"""Human document numbers (`Q-2026-000123`, `SO-...`, `INV-...`): one counter per series
and year, advanced in the caller's transaction. A rolled-back transaction gives its number
back, so committed numbers have no gaps (what invoices require); concurrent writers queue
on the counter row."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, PrimaryKeyConstraint, String, Table, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def sequences_table(metadata: MetaData) -> Table:
    return Table(
        "document_sequences",
        metadata,
        Column("series", String(20), nullable=False),
        Column("year", Integer, nullable=False),
        Column("last_value", Integer, nullable=False),
        PrimaryKeyConstraint("series", "year", name="pk_document_sequences"),
    )


async def next_number(session: AsyncSession, table: Table, series: str, year: int) -> str:
    """The next number of `series` in `year`, e.g. `Q-2026-000123`."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(table).values(series=series, year=year, last_value=0).on_conflict_do_nothing()
    )
    result = await session.execute(
        update(table)
        .where(table.c.series == series, table.c.year == year)
        .values(last_value=table.c.last_value + 1)
        .returning(table.c.last_value)
    )
    return f"{series}-{year}-{result.scalar_one():06d}"
