"""Async engines and sessions for SQLite and PostgreSQL, configured the same way everywhere."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Dialect,
    Numeric,
    Table,
    TypeDecorator,
    Uuid,
    cast,
    event,
    func,
    select,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Mapped, mapped_column

READ_ONLY = {"sqlite_begin": "DEFERRED"}
"""Execution options for a connection that only reads: on SQLite it then does not take
the write lock (which every other transaction takes up front, see `create_engine`)."""


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


DEFAULT_TIMEOUT = 10.0
"""Seconds a database call may take by default, see `create_engine`."""


def create_engine(
    url: str | URL,
    *,
    pool_size: int = 10,
    echo: bool = False,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> AsyncEngine:
    """An engine for `url`.

    `timeout` bounds every wait on the database: connecting, one statement, a free pooled
    connection, SQLite's write lock. A database that stops answering (frozen host, cut
    network path) then fails the call with an outage (`is_database_outage`) the route
    answers as 503 and the consumer retries, well inside the gateway's read timeout,
    instead of hanging on a connection that will never answer. None (migrations) waits
    as long as a statement takes.

    On SQLite every transaction starts with BEGIN IMMEDIATE: SQLite's default deferred
    transactions fail with "database is locked" when two of them read and then both try
    to write, instead of waiting; taking the write lock up front makes concurrent writers
    queue on the busy timeout, which is the behaviour PostgreSQL's row locks give us.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Without a limit, still give up on the write lock after a while: SQLite has no
        # "wait forever", and a migration that waited 30 s for it is better stopped.
        busy = 30.0 if timeout is None else timeout
        engine = create_async_engine(parsed, echo=echo, connect_args={"timeout": busy})
        _configure_sqlite(engine, busy_ms=int(busy * 1000))
        return engine
    limits: dict[str, Any] = {}
    if timeout is not None:
        limits = {
            "pool_timeout": timeout,
            "connect_args": {"timeout": timeout, "command_timeout": timeout},
        }
    return create_async_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        **limits,
    )


def _configure_sqlite(engine: AsyncEngine, *, busy_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (see the "begin" hook) instead of pysqlite.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Search columns hold lower-cased text; a case-sensitive LIKE can use their index.
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {'DEFERRED' if mode == 'DEFERRED' else 'IMMEDIATE'}")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def lock_for_transaction(session: AsyncSession, key: int) -> None:
    """Wait until no other transaction holds `key`, then hold it until this one ends: for
    a decision made from rows a concurrent writer could add (no row to lock yet), such as
    which record is the one default. A PostgreSQL transaction-scoped advisory lock;
    SQLite needs none, its writers queue anyway (BEGIN IMMEDIATE, see `create_engine`)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(key)))


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names every service's MetaData uses, so migrations can name what they alter."""


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp that comes back aware on SQLite too (stored as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


MONEY = Numeric(14, 2)
"""Amounts of money: exact decimals with two places, never floats."""

RATE = Numeric(7, 4)
"""Percent rates (tax, discount): up to 999.9999 with four places."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def _as_created(context: Any) -> datetime:
    """A new record's `updated_at`: its `created_at` (set or defaulted before it, in column
    order), so a record never changed shows the same moment twice."""
    created: datetime | None = context.get_current_parameters().get("created_at")
    return created if created is not None else utcnow()


class Record:
    """Columns every business record has: id, optimistic-concurrency version (bumped by
    SQLAlchemy on each UPDATE when mapped as `version_id_col`), created and updated at."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, nullable=False, default=_as_created, onupdate=utcnow
    )


def table_of(model: type[Any]) -> Table:
    """The table a declarative model maps, for Core statements on it."""
    table: Table = model.__table__
    return table


def column_values(instance: Any) -> dict[str, Any]:
    """A mapped object's value of every column of its table (None where unset), for a
    multi-row INSERT of objects built outside the session: set every column that has a
    default, as no default applies to a value given."""
    return {column.key: getattr(instance, column.key) for column in table_of(type(instance)).c}


# SQLSTATEs of a server that cannot serve now: connection exceptions (class 08), too many
# connections, and a server shutting down, crashed or still starting up.
_OUTAGE_SQLSTATE_PREFIXES = ("08", "53300", "57P01", "57P02", "57P03")


def is_database_outage(exc: BaseException) -> bool:
    """True when the database is unreachable or busy, not the request or message at fault:
    consumers retry (never dead-letter), routes answer 503."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, InterfaceError | ConnectionError | TimeoutError | PoolTimeout):
        return True
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
    if sqlstate.startswith(_OUTAGE_SQLSTATE_PREFIXES):
        return True
    if isinstance(exc, OperationalError):
        message = str(exc.orig).lower()
        return any(
            marker in message
            for marker in ("locked", "connection", "could not connect", "server closed", "timeout")
        )
    return isinstance(exc, OSError)


# Constraint violations a concurrent writer causes: unique, foreign key, check, exclusion.
_CONFLICT_SQLSTATES = frozenset({"23505", "23503", "23514", "23P01"})
_CONFLICT_SQLITE_ERRORS = frozenset(
    {
        "SQLITE_CONSTRAINT_UNIQUE",
        "SQLITE_CONSTRAINT_PRIMARYKEY",
        "SQLITE_CONSTRAINT_FOREIGNKEY",
        "SQLITE_CONSTRAINT_CHECK",
    }
)


# Transactions the server rolled back because another was in their way: a deadlock, a
# serialisation failure.
_ROLLED_BACK_SQLSTATES = frozenset({"40P01", "40001"})


def is_write_conflict(exc: BaseException) -> bool:
    """True when another transaction got in the way of this one's write, so the client
    should fetch the current state and decide again (routes answer 409): a write broke a
    unique, foreign-key or check constraint because another transaction committed between
    the checks a use case made and its own write (two requests taking one sku at once),
    or the server rolled this transaction back to break a deadlock with another. A
    missing NOT NULL value is a defect, not this."""
    cause = getattr(exc, "orig", None)
    if isinstance(exc, DBAPIError) and getattr(cause, "sqlstate", None) in _ROLLED_BACK_SQLSTATES:
        return True
    if not isinstance(exc, IntegrityError):
        return False
    return (
        getattr(cause, "sqlstate", None) in _CONFLICT_SQLSTATES
        or getattr(cause, "sqlite_errorname", None) in _CONFLICT_SQLITE_ERRORS
    )


def sum_in_cents(amount: Any) -> ColumnElement[Any]:
    """The sum of a money expression in whole cents (0 when nothing is summed). SQLite
    keeps numerics as floating point: summing them drifts, summing integers does not
    (PostgreSQL is exact either way). Read back with `from_cents`."""
    return func.coalesce(func.sum(cast(func.round(amount * 100), BigInteger)), 0)


def from_cents(value: Any) -> Decimal:
    return Decimal(int(value or 0)).scaleb(-2)
