"""Signing in: a password or an external issuer's token exchanged for the gateway's own
(both throttled per address when they keep failing), or a refresh token (used once);
each ends in a token pair."""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.adapters.external_keys import ExternalKeys
from gateway.adapters.users import FAILURE_KEY_LENGTH, RefreshToken, SignInFailure, User
from gateway.config import Settings
from gateway.domain.identity import carried_roles, retry_after, retry_after_seconds, username_key
from gateway.service.passwords import Passwords
from gateway.service.users import revoke_refresh_tokens
from shared_schemas.database import lock_for_transaction, utcnow
from shared_schemas.identity import InvalidToken, TokenSigner, TokenVerifier
from shared_schemas.identity.config import CLOCK_SKEW
from shared_schemas.identity.tokens import check_numeric_dates, usable_text


class BadCredentials(Exception):
    """Unknown user, wrong password or disabled user: one answer for all three."""


class InvalidGrant(Exception):
    """A refresh token or external token that cannot start a session (reason for logs)."""


# A recent failed sign-in as `_attempt` reads it: id, key, failed_at, pending.
Failure = Row[int, str, datetime, bool]


class Throttled(Exception):
    def __init__(self, wait: timedelta) -> None:
        super().__init__(f"throttled for {wait}")
        self.retry_after = retry_after_seconds(wait)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int


@dataclass(frozen=True)
class ExternalIssuer:
    """The OIDC issuer whose tokens are exchanged, and where its keys are."""

    issuer: str
    audience: str
    keys: ExternalKeys
    roles_claim: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ExternalIssuer | None:
        if not (settings.oidc_issuer and settings.oidc_jwks_url and settings.oidc_audience):
            return None
        return cls(
            settings.oidc_issuer,
            settings.oidc_audience,
            ExternalKeys(settings.oidc_jwks_url),
            settings.oidc_roles_claim,
        )

    async def verify(self, token: str) -> dict[str, Any]:
        """The claims of a token this issuer signed for this audience; InvalidToken else
        (KeysUnavailable when its keys cannot be fetched)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"unreadable header: {exc}") from exc
        key_id = header.get("kid")
        if not isinstance(key_id, str) or not key_id:
            raise InvalidToken("no key id")
        pinned = await self.keys.key_for(key_id)
        if pinned is None:
            raise InvalidToken(f"unknown external key id {key_id!r}")
        if header.get("alg") != pinned.algorithm:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not the key's")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                pinned.key.key,
                algorithms=[pinned.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=CLOCK_SKEW,
                options={"require": ["iss", "aud", "sub", "exp", "iat"]},
            )
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(str(exc)) from exc
        # `exp`, `iat` and `nbf` (when there) as strictly as the gateway's own tokens':
        # numbers within range, not strings or booleans PyJWT would take.
        check_numeric_dates(claims)
        # Looked up in the database: text it can take, or no user has it.
        if not usable_text(claims.get("sub")):
            raise InvalidToken("no usable subject")
        return claims


class SignIn:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        signer: TokenSigner,
        verifier: TokenVerifier,
        passwords: Passwords,
        external: ExternalIssuer | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.signer = signer
        self.verifier = verifier
        self.passwords = passwords
        self.external = external
        self.access_ttl = timedelta(seconds=settings.access_token_ttl_seconds)
        self.refresh_ttl = timedelta(seconds=settings.refresh_token_ttl_seconds)
        self.window = timedelta(seconds=settings.login_window_seconds)

    async def with_password(self, username: str, password: str, client: str) -> TokenPair:
        """A token pair for the right password of an enabled user. Throttled (even for the
        right password) while the username or the client address has too many recent
        failures; success forgets the username's failures that had ended before it began
        (never an attempt in flight beside it, nor one begun since)."""
        now = utcnow()
        name_key = username_key(username)
        user_key, address_key = _failure_key("user", name_key), _failure_key("ip", client)
        async with self.sessions() as session, session.begin():
            attempt = await self._attempt(session, [user_key, address_key], now, user_key)
            # A username no database could store (a NUL) is no user's: refused as unknown,
            # after the same check, rather than the database refusing the query.
            user = (
                await session.scalar(select(User).where(User.username_key == name_key))
                if usable_text(name_key)
                else None
            )
        try:
            # Unknown users are checked against a dummy hash: every refusal costs the same.
            matches = await self.passwords.verify(user.password_hash if user else None, password)
        except Exception:
            await self._forget(attempt)
            raise
        if user is None or not matches or user.disabled:
            await self._failed(attempt, address_key, now)
            raise BadCredentials()
        async with self.sessions() as session, session.begin():
            # The user as they are now, locked as revocations lock them: a new password or a
            # disabling committed while the old password was being checked ends this too.
            current = await session.get(User, user.id, with_for_update=True, populate_existing=True)
            if current is not None and _unchanged(current, user):
                # By id, not by username: failures recorded since this attempt began (a
                # guess racing it) are not this success's to forgive.
                forgiven = [*attempt.forgives, *attempt.rows]
                await session.execute(delete(SignInFailure).where(SignInFailure.id.in_(forgiven)))
                if self.passwords.needs_rehash(current.password_hash):
                    current.password_hash = await self.passwords.hash(password)
                return await self._issue(session, current, now)
        await self._failed(attempt, address_key, now)
        raise BadCredentials()

    async def with_refresh_token(self, token: str) -> TokenPair:
        """A new pair for a refresh token used for the first time; that token is spent.
        A spent one used again means it was stolen or leaked: every session of its user
        ends."""
        try:
            principal = await self.verifier.verify(token, token_type="refresh")  # noqa: S106
            user_id = uuid.UUID(principal.user_id)
        except (InvalidToken, ValueError) as exc:
            raise InvalidGrant(str(exc)) from exc
        now = utcnow()
        async with self.sessions() as session, session.begin():
            # The user first (shared), as everything that ends sessions locks it before
            # their tokens: a password change or disabling waits for this refresh and then
            # revokes the token it issues too, or this refresh waits and finds it revoked.
            user = await session.get(User, user_id, with_for_update={"read": True})
            issued = await session.get(RefreshToken, principal.token_id, with_for_update=True)
            if issued is None or issued.user_id != user_id:
                raise InvalidGrant("unknown refresh token")
            reused = issued.revoked_reason == "rotated"
            if issued.revoked_at is None and issued.expires_at > now:
                if user is None or user.disabled:
                    raise InvalidGrant("the user is disabled")
                issued.revoked_at, issued.revoked_reason = now, "rotated"
                return await self._issue(session, user, now, issued.roles_limit)
        if reused:
            async with self.sessions() as session, session.begin():
                await revoke_refresh_tokens(session, user_id, "reused", now)
        raise InvalidGrant("the refresh token was revoked or has expired")

    async def with_external_token(self, token: str, client: str) -> TokenPair:
        """A pair for the gateway user linked (by `oidc_subject`) to the external token's
        subject; the roles claim, when present, can only narrow the user's roles. A refused
        token is a failed sign-in of the client address, counted with failed passwords:
        throttled (even for a good token) while the address has too many."""
        if self.external is None:
            raise InvalidGrant("no external issuer is configured")
        now = utcnow()
        keys = [_failure_key("ip", client)]
        async with self.sessions() as session, session.begin():
            await self._attempt(session, keys, now)
        try:
            claims = await self.external.verify(token)
        except InvalidToken as exc:
            await self._record_failure(keys, now)
            raise InvalidGrant(str(exc)) from exc
        async with self.sessions() as session, session.begin():
            user = await session.scalar(select(User).where(User.oidc_subject == claims["sub"]))
            if user is not None and not user.disabled:
                roles = carried_roles(user.roles, claims.get(self.external.roles_claim))
                return await self._issue(session, user, now, roles)
        await self._record_failure(keys, now)
        raise InvalidGrant("no enabled user is linked to this subject")

    async def _issue(
        self, session: AsyncSession, user: User, now: datetime, roles_limit: list[str] | None = None
    ) -> TokenPair:
        roles = user.roles if roles_limit is None else carried_roles(user.roles, roles_limit)
        access = self.signer.issue(
            subject=str(user.id),
            roles=roles,
            employee_id=user.employee_id,
            lifetime=self.access_ttl,
            now=now,
        )
        jti = str(uuid.uuid4())
        refresh = self.signer.issue(
            subject=str(user.id),
            roles=roles,
            employee_id=user.employee_id,
            token_type="refresh",  # noqa: S106 - a token kind
            lifetime=self.refresh_ttl,
            now=now,
            extra={"jti": jti},
        )
        # Expired refresh tokens of the user are of no use any more.
        await session.execute(
            delete(RefreshToken).where(
                RefreshToken.user_id == user.id, RefreshToken.expires_at < now
            )
        )
        session.add(
            RefreshToken(
                jti=jti,
                user_id=user.id,
                issued_at=now,
                expires_at=now + self.refresh_ttl,
                roles_limit=roles_limit,
            )
        )
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            expires_in=int(self.access_ttl.total_seconds()),
            refresh_expires_in=int(self.refresh_ttl.total_seconds()),
        )

    async def _attempt(
        self, session: AsyncSession, keys: list[str], now: datetime, counted: str | None = None
    ) -> Attempt:
        """Start a sign-in for `keys`: Throttled while one has too many recent failures.
        The `counted` key's attempt is a failure from now on (a pending row, removed when it
        succeeds, marked ended when it fails), so parallel attempts at one username see it
        before its slow check ends; the keys are locked while counting, so no two take the
        last free try. An address's failures are recorded once refused: many people may
        sign in from one address at the same moment."""
        for lock in sorted(_lock_id(key) for key in keys):
            await lock_for_transaction(session, lock)
        # Failures older than the window count for nothing: pruned as new ones arrive.
        await session.execute(
            delete(SignInFailure).where(SignInFailure.failed_at <= now - self.window)
        )
        recent = (
            await session.execute(
                select(
                    SignInFailure.id,
                    SignInFailure.key,
                    SignInFailure.failed_at,
                    SignInFailure.pending,
                ).where(SignInFailure.key.in_(keys), SignInFailure.failed_at > now - self.window)
            )
        ).all()
        wait = self._wait(recent, now)
        if wait is not None:
            raise Throttled(wait)
        if counted is None:
            return Attempt()
        row = SignInFailure(key=counted, failed_at=now, pending=True)
        session.add(row)
        await session.flush()
        # What a success of this attempt may forgive: the failures of its username that
        # had ended when it began; not those of attempts still in flight (they may fail
        # after it) nor of attempts begun after it.
        ended = tuple(id_ for id_, key, _, pending in recent if key == counted and not pending)
        return Attempt(rows=(row.id,), forgives=ended)

    def _wait(self, recent: Sequence[Failure], now: datetime) -> timedelta | None:
        """How long the most throttled of the keys of `recent` failures must wait."""
        failures: dict[str, list[datetime]] = defaultdict(list)
        for _, key, failed_at, _ in recent:
            failures[key].append(failed_at)
        waits = [
            wait
            for times in failures.values()
            if (
                wait := retry_after(
                    times,
                    now=now,
                    max_failures=self.settings.login_max_failures,
                    window=self.window,
                )
            )
            is not None
        ]
        return max(waits, default=None)

    async def _record_failure(self, keys: list[str], now: datetime) -> None:
        async with self.sessions() as session, session.begin():
            session.add_all([SignInFailure(key=key, failed_at=now) for key in keys])

    async def _failed(self, attempt: Attempt, address_key: str, now: datetime) -> None:
        """A password attempt refused: its username's pending failure has ended (a later
        success may forgive it), and the address's is recorded."""
        async with self.sessions() as session, session.begin():
            if attempt.rows:
                await session.execute(
                    update(SignInFailure)
                    .where(SignInFailure.id.in_(attempt.rows))
                    .values(pending=False)
                )
            session.add(SignInFailure(key=address_key, failed_at=now))

    async def _forget(self, attempt: Attempt) -> None:
        """An attempt that failed for want of a dependency, not of the client: not counted."""
        if not attempt.rows:
            return
        async with self.sessions() as session, session.begin():
            await session.execute(delete(SignInFailure).where(SignInFailure.id.in_(attempt.rows)))


@dataclass(frozen=True)
class Attempt:
    """A sign-in under way: the failure rows it counts as until it ends (its username's),
    and the ended failures its success would forgive."""

    rows: tuple[int, ...] = ()
    forgives: tuple[int, ...] = ()


def _unchanged(current: User, checked: User) -> bool:
    """Whether the password checked is still the user's, and the user still enabled."""
    return not current.disabled and current.password_hash == checked.password_hash


def _failure_key(kind: str, value: str) -> str:
    """What failed sign-ins are counted under: `user:<username key>` or `ip:<address>`, or
    for a value too long to store (a username of 200 characters case-folds to up to 600)
    or that a database cannot store (a NUL, which PostgreSQL refuses) its digest, so that
    it is counted like any other and refused like any other."""
    key = f"{kind}:{value}"
    if len(key) <= FAILURE_KEY_LENGTH and usable_text(value):
        return key
    digest = hashlib.blake2b(value.encode(errors="surrogatepass"), digest_size=32)
    return f"{kind}#{digest.hexdigest()}"


def _lock_id(key: str) -> int:
    """A throttling key as a 64-bit lock id, the same in every replica."""
    digest = hashlib.blake2b(key.encode(), digest_size=8, person=b"sign-in").digest()
    return int.from_bytes(digest, "big", signed=True)
