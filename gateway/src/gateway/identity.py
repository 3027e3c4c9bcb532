"""The gateway's identity in its app: who signs, what it trusts (and which users it no
longer does), and what happens to the users table at start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.config import Settings
from gateway.domain.rate_limits import client_key
from gateway.service.development_users import prepare_users
from gateway.service.passwords import Passwords
from gateway.service.revocation import DisabledUsers, GatewayTokenVerifier
from gateway.service.sign_in import ExternalIssuer, SignIn
from gateway.service.signing import published_jwks, signer_for


@dataclass(frozen=True)
class Identity:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    passwords: Passwords
    disabled: DisabledUsers
    sign_in: SignIn
    jwks: dict[str, Any]


def install_identity(app: FastAPI, settings: Settings) -> Identity:
    """Replace the app's token verifier by the gateway's (own keys, refusing disabled
    users) and prepare the users at start (seeded in development, refused in production
    while a development password works)."""
    sessions: async_sessionmaker[AsyncSession] = app.state.sessions
    disabled = DisabledUsers(app.state.engine)
    verifier = GatewayTokenVerifier(settings.identity(), disabled)
    passwords = Passwords()
    sign_in = SignIn(
        settings,
        sessions,
        signer_for(settings),
        verifier,
        passwords,
        ExternalIssuer.from_settings(settings),
    )
    identity = Identity(settings, sessions, passwords, disabled, sign_in, published_jwks(settings))
    app.state.token_verifier = verifier
    app.state.identity = identity
    started = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[Any]:
        await prepare_users(settings, sessions, passwords)
        context: AbstractAsyncContextManager[Any] = started(running)
        async with context as state:
            yield state

    app.router.lifespan_context = lifespan
    return identity


async def identity_of(request: Request) -> Identity:
    # async: FastAPI would run a plain function in its thread pool, a costly hop.
    identity: Identity = request.app.state.identity
    return identity


IdentityDep = Annotated[Identity, Depends(identity_of)]


def client_address(request: Request) -> str:
    """The caller's address as sign-ins are throttled by it, the same as the edge's rate
    limits: the address the server saw (behind a proxy, run the server with its
    forwarded-headers option so that this is the client's), an IPv6 one as its /64."""
    return client_key(request.client.host) if request.client else "unknown"
