"""One business transaction: a session, the events it records, who it acts for; each
service subclasses it with its own outbox."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import ClassVar, Generic, Self, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared_schemas.database import READ_ONLY
from shared_schemas.events.base import EventData
from shared_schemas.http.idempotency import (
    Claim,
    confirm_committed,
    current_claim,
    mark_committed,
)
from shared_schemas.identity.tokens import Principal
from shared_schemas.messaging.context import EventContext, current_event_context
from shared_schemas.messaging.outbox import Outbox
from shared_schemas.service import ServiceSettings

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)

READING_METHODS = frozenset({"GET", "HEAD"})
"""Requests whose unit of work only reads (`read_only=True`)."""


class UnitOfWork(Generic[SettingsT]):
    """`async with uow:` opens a transaction, commits it on success, rolls back on error.

    Events recorded with `record` are written to the service's outbox (`outbox`, set by
    each service's subclass) in the same transaction: kept in the order recorded and
    written in one INSERT when the unit of work ends without error, so a use case pays
    one round trip for its events however many it records.

    The same transaction marks the running request's Idempotency-Key (and those added
    with `serve`) as having taken effect, so a retry after a crash never runs it again.

    `read_only=True` (a GET's unit of work) reads without SQLite's write lock, so reads
    never queue behind writers; it must not write.
    """

    outbox: ClassVar[Outbox]

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: SettingsT,
        principal: Principal | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.principal = principal
        self.read_only = read_only
        self._session: AsyncSession | None = None
        self._joined: AsyncSession | None = None
        self._recorded: list[tuple[EventData, str | None, EventContext]] = []
        self._claims: list[Claim] = []

    @classmethod
    def joining(cls, session: AsyncSession, settings: SettingsT) -> Self:
        """A unit of work inside a transaction someone else owns (an event handler's):
        `async with` neither begins nor commits it."""
        uow = cls(async_sessionmaker(), settings)
        uow._joined = session
        return uow

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("use the unit of work inside `async with`")
        return self._session

    @property
    def actor(self) -> str:
        """Who the events name as having caused the change."""
        return self.principal.actor if self.principal else self.outbox.source

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    async def record(self, data: EventData) -> None:
        """The event of a change made in this unit of work, caused by its actor, carrying
        the current event context (correlation and causation ids)."""
        self._check_open()
        self._recorded.append((data, self.actor, current_event_context()))

    async def record_many(
        self, events: Sequence[tuple[EventData, str | None, EventContext]]
    ) -> None:
        """Events of changes made for several requests (group commit), each with its own
        actor and request context."""
        self._check_open()
        self._recorded.extend(events)

    def serve(self, claims: Iterable[Claim]) -> None:
        """Requests whose effect this transaction makes besides the running one (group
        commit): their Idempotency-Keys are marked with it."""
        self._claims.extend(claims)

    def _check_open(self) -> None:
        if self._session is None:
            raise RuntimeError("record events inside `async with` of the unit of work")

    async def _write_recorded(self, session: AsyncSession) -> None:
        recorded, self._recorded = self._recorded, []
        if recorded:
            await self.outbox.record_many(session, recorded)

    async def __aenter__(self) -> Self:
        if self._joined is not None:
            self._session = self._joined
            return self
        self._session = self.sessions()
        if self.read_only:
            # Begins the transaction without the write lock SQLite's writers take up front.
            await self._session.connection(execution_options=READ_ONLY)
        else:
            await self._session.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        assert session is not None
        if self._joined is not None:
            # The owner of the transaction commits or rolls back.
            if exc is None:
                await self._write_recorded(session)
            self._recorded = []
            return
        claims, self._claims = self._claims, []
        running = current_claim()
        if running is not None and running not in claims:
            claims.append(running)
        try:
            if exc is None:
                await self._write_recorded(session)
                await mark_committed(session, claims)
                await session.commit()
                confirm_committed(claims)
            else:
                await session.rollback()
        finally:
            self._recorded = []
            await session.close()
