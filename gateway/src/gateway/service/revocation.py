"""Access tokens of disabled users refused at the gateway before they expire: the
shared revocation mechanism over the gateway's users. An admin's change made by this
process is seen at once (`forget`); the consumer disabling a terminated employee's users,
or another replica, within a second."""

from __future__ import annotations

from dataclasses import replace

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.adapters.users import User
from shared_schemas.identity import (
    TokenVerifier,
    key_source,
)
from shared_schemas.identity.config import CLOCK_SKEW, IdentityConfig
from shared_schemas.identity.revocation import REFRESH_SECONDS, RevokedIds
from shared_schemas.identity.tokens import KeySource


class DisabledUsers(RevokedIds):
    """The users an admin disabled or the consumer disabled for a terminated employee."""

    def __init__(self, engine: AsyncEngine, *, refresh_seconds: float = REFRESH_SECONDS) -> None:
        super().__init__(
            engine,
            select(User.id).where(User.disabled),
            claim=lambda principal: principal.user_id,
            reason="user {} is disabled",
            refresh_seconds=refresh_seconds,
        )


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
            revoked=disabled,
        )
        self.disabled = disabled
