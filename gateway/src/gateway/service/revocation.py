"""Access tokens of disabled users refused at the gateway before they expire.

A token is a signed promise, valid until `exp`; the gateway also asks whether its subject
is a user it has disabled since. It keeps the set of disabled users' ids in memory and
reads it again at most every `refresh_seconds` (one small query per second per process,
not one per request); a change made by this process forgets the set at once, a change
made by another process (the consumer disabling a terminated employee's users, another
replica) is seen within `refresh_seconds`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace

import jwt
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.adapters.users import User
from shared_schemas.database import READ_ONLY
from shared_schemas.identity import (
    InvalidToken,
    KeysUnavailable,
    Principal,
    TokenVerifier,
    key_source,
)
from shared_schemas.identity.config import CLOCK_SKEW, IdentityConfig
from shared_schemas.identity.tokens import KeySource, TokenType

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0


class DisabledUsers:
    def __init__(self, engine: AsyncEngine, *, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.engine = engine
        self.refresh_seconds = refresh_seconds
        self._ids: frozenset[str] | None = None
        self._read_at = -float("inf")
        self._lock = asyncio.Lock()

    async def contains(self, user_id: str) -> bool:
        if time.monotonic() - self._read_at > self.refresh_seconds:
            await self._read()
        assert self._ids is not None
        return user_id in self._ids

    def forget(self) -> None:
        """Read the set again on next use (this process just disabled or enabled a user)."""
        self._read_at = -float("inf")

    async def _read(self) -> None:
        async with self._lock:
            started = time.monotonic()
            if started - self._read_at <= self.refresh_seconds:
                return  # read by another request while this one waited
            try:
                async with self.engine.connect() as connection:
                    connection = await connection.execution_options(**READ_ONLY)
                    rows = await connection.execute(select(User.id).where(User.disabled))
                    self._ids = frozenset(str(user_id) for (user_id,) in rows)
                self._read_at = started
            except (SQLAlchemyError, OSError) as exc:
                # The last known set keeps serving while the database is away; without
                # one no token can be trusted.
                log.warning("disabled users unavailable: %s", exc)
                if self._ids is None:
                    raise KeysUnavailable("the gateway's database is unavailable") from exc


class _Keys:
    """The gateway's own keys, and then the JWKS URL when one is configured too."""

    def __init__(self, own: KeySource, remote: KeySource | None) -> None:
        self.own = own
        self.remote = remote

    async def key_for(self, key_id: str) -> jwt.PyJWK | None:
        key = await self.own.key_for(key_id)
        if key is None and self.remote is not None:
            key = await self.remote.key_for(key_id)
        return key


class GatewayTokenVerifier(TokenVerifier):
    """The shared verifier, and an access token of a disabled user is refused."""

    def __init__(self, identity: IdentityConfig, disabled: DisabledUsers) -> None:
        own = key_source(identity)
        remote = None
        if identity.jwks_url:
            remote = key_source(replace(identity, jwks=None))
        super().__init__(
            _Keys(own, remote),
            issuer=identity.issuer,
            audience=identity.audience,
            leeway=CLOCK_SKEW,
        )
        self.disabled = disabled

    async def verify(self, token: str, *, token_type: TokenType = "access") -> Principal:  # noqa: S107
        principal = await super().verify(token, token_type=token_type)
        if await self.disabled.contains(principal.user_id):
            raise InvalidToken(f"user {principal.user_id} is disabled")
        return principal
