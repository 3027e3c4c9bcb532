"""Human document numbers (`Q-2026-000123`, `SO-...`, `INV-...`): one counter per series
and year, advanced in the caller's transaction. A rolled-back transaction gives its number
back, so committed numbers have no gaps (what invoices require); concurrent writers queue
on the counter row."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, PrimaryKeyConstraint, String, Table
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
    [number] = await next_numbers(session, table, series, year, 1)
    return number


async def next_numbers(
    session: AsyncSession, table: Table, series: str, year: int, count: int
) -> list[str]:
    """The next `count` consecutive numbers of `series` in `year`, in one statement: the
    counter row is created at `count` or advanced by it, and locked until commit."""
    if count < 1:
        return []
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(series=series, year=year, last_value=count)
    advanced = statement.on_conflict_do_update(
        index_elements=[table.c.series, table.c.year],
        set_={"last_value": table.c.last_value + count},
    ).returning(table.c.last_value)
    last = (await session.execute(advanced)).scalar_one()
    return [f"{series}-{year}-{value:06d}" for value in range(last - count + 1, last + 1)]
