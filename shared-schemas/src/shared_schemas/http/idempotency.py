"""`Idempotency-Key` on POST: the same key with the same request replays the first
response; with a different request it is a 422; while the first is still running, a 409.
A JSON body is the same when it says the same: the order of its members and the white
space between them do not count (nor the order of a form's parameters). Secrets in a body
(`SECRET_MEMBERS`) are left out of what is compared, so none is kept here in any form.

Keys are scoped to the authenticated user and kept for a day. The key is claimed before
the request runs and its response stored after. In between, the transaction that makes
the request's effect marks the claim `committed` (`mark_committed`, called by the unit
of work), so a crash can never leave the question "did it happen?" open:

- a claim still `processing` after its lease never took effect (its process died before
  committing): the next retry takes the claim over and runs the request;
- a `committed` claim took effect once, whatever happens to its response: it is never
  run again (a retry gets 409 if the response could not be stored).

Server errors (5xx) before any effect release the key so the client may retry, and so do
refusals that invite a retry (409 Conflict: the state or a concurrent writer was in the
way; 429) when nothing took effect: replaying them would refuse the retry they invite
for the key's whole life. Any other answer is stored and replayed, except the body of
one marked `Cache-Control: no-store` (it holds a secret, such as a webhook's signing key,
that must not lie in this table): its retry is told the request took effect and where
the resource is (`Location`), as when a response was lost. A first
attempt outliving its lease cannot commit after a retry took over: its mark finds the
claim no longer its own and its transaction rolls back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    and_,
    delete,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared_schemas.database import is_database_outage
from shared_schemas.domain import Conflict
from shared_schemas.http.body_limit import read_body
from shared_schemas.http.problems import Problem, database_outage, problem_response
from shared_schemas.identity.tokens import (
    InvalidToken,
    KeysUnavailable,
    Principal,
    TokenVerifier,
)

log = logging.getLogger(__name__)

HEADER = b"idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
PROCESSING = "processing"  # claimed, no effect yet
COMMITTED = "committed"  # its effect is committed, its response not stored (yet)
COMPLETED = "completed"  # its response is stored and replayed
# Refusals that ask the client to try again later; never stored for an attempt that took
# no effect.
_TRY_AGAIN = frozenset({409, 429})
# Members of a JSON body (at any depth) or a form whose values are secrets: a password, a
# token, a webhook's signing key. The fingerprint stands a fixed mark in for each, so the
# keys table, which a copy of the database reveals, holds no fast check of a guess at one
# (the user table keeps passwords only as argon2 hashes). A retry that changes only a
# secret is therefore the same request.
SECRET_MEMBERS = frozenset(
    {"password", "secret", "client_secret", "refresh_token", "subject_token"}
)
_SECRET_MARK = "<secret>"  # noqa: S105 - the mark that stands in for one


def idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("user_id", String(200), nullable=False),
        Column("key", String(255), nullable=False),
        PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_keys"),
        Column("fingerprint", String(64), nullable=False),
        Column("state", String(20), nullable=False),
        Column("status_code", Integer, nullable=True),
        Column("headers", JSON, nullable=True),
        Column("body", LargeBinary, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    )


@dataclass
class Claim:
    """The running request's hold on its key: `claimed_at` tells this attempt apart from
    a retry that took the key over."""

    table: Table
    user_id: str
    key: str
    claimed_at: datetime
    committed: bool = field(default=False)


_current_claim: ContextVar[Claim | None] = ContextVar("idempotency_claim", default=None)


def current_claim() -> Claim | None:
    """The key claimed by the request being handled, until its effect is committed."""
    claim = _current_claim.get()
    return None if claim is None or claim.committed else claim


async def mark_committed(session: AsyncSession, claims: Sequence[Claim]) -> None:
    """In the transaction that makes the requests' effect: their keys took effect.

    Raises Conflict when a claim is no longer this attempt's (a retry took it over after
    the lease ran out); the caller's transaction must then roll back.
    """
    for claim in claims:
        table = claim.table
        result = await session.execute(
            update(table)
            .where(
                table.c.user_id == claim.user_id,
                table.c.key == claim.key,
                table.c.state == PROCESSING,
                table.c.created_at == claim.claimed_at,
            )
            .values(state=COMMITTED)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(
                "A retry with this Idempotency-Key took over while this request ran; "
                "this attempt was rolled back."
            )


def confirm_committed(claims: Sequence[Claim]) -> None:
    """After the commit of `mark_committed`'s transaction."""
    for claim in claims:
        claim.committed = True


@dataclass(frozen=True)
class _Stored:
    fingerprint: str
    state: str
    status_code: int | None
    headers: list[list[str]] | None
    body: bytes | None
    created_at: datetime


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        engine: AsyncEngine,
        table: Table,
        ttl: timedelta = timedelta(hours=24),
        lease: timedelta | None = timedelta(minutes=1),
    ) -> None:
        self.app = app
        self.engine = engine
        self.table = table
        self.ttl = ttl
        self.lease = lease

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        raw_key = headers.get(HEADER)
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not _VALID_KEY.match(key):
            problem = Problem(
                422,
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
                kind="validation-error",
                errors=[{"field": "Idempotency-Key", "message": "invalid key"}],
            )
            await problem_response(problem, scope.get("path"))(scope, receive, send)
            return
        user_id = await self._user(scope)
        if user_id is None:
            await self.app(scope, receive, send)  # the route answers 401 itself
            return
        body = await read_body(receive)
        fingerprints = _fingerprints(scope, body)
        try:
            claim, stored = await self._claim(user_id, key, fingerprints)
        except Exception as exc:
            if not is_database_outage(exc):
                raise
            await problem_response(database_outage(), scope.get("path"))(scope, receive, send)
            return
        if claim is None:
            assert stored is not None
            await self._answer_repeat(scope, receive, send, stored, fingerprints)
            return
        await self._run_and_store(scope, body, send, claim)

    async def _user(self, scope: Scope) -> str | None:
        """The caller's user id, verified by the app's token verifier as it stands now
        (an app may replace it, e.g. by one that also refuses disabled users)."""
        state = scope.setdefault("state", {})
        known = state.get("principal")
        if isinstance(known, Principal):  # verified in front of the app already
            return known.user_id
        # Read as the route's check reads it (HTTPBearer): the first Authorization header,
        # the token past any spaces; another reading could miss a caller the route knows.
        authorization = Headers(scope=scope).get("authorization")
        scheme, token = get_authorization_scheme_param(authorization)
        if scheme.lower() != "bearer" or not token:
            return None
        verifier: TokenVerifier = scope["app"].state.token_verifier
        try:
            principal = await verifier.verify(token)
        except (InvalidToken, KeysUnavailable):
            return None
        # The route's own token check reuses this instead of verifying again.
        state["principal"] = principal
        return principal.user_id

    async def _claim(
        self, user_id: str, key: str, fingerprints: tuple[str, ...]
    ) -> tuple[Claim | None, _Stored | None]:
        table, now = self.table, datetime.now(UTC)
        insert = postgresql_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        this_key = and_(table.c.user_id == user_id, table.c.key == key)
        async with self.engine.begin() as connection:
            # An expired key is forgotten; the client may use it afresh.
            await connection.execute(
                delete(table).where(this_key, table.c.created_at < now - self.ttl)
            )
            result = await connection.execute(
                insert(table)
                .values(
                    user_id=user_id,
                    key=key,
                    fingerprint=fingerprints[0],
                    state=PROCESSING,
                    created_at=now,
                )
                .on_conflict_do_nothing()
            )
            if result.rowcount:
                return Claim(table, user_id, key, now), None
            if self.lease is not None and await self._take_over(
                connection, this_key, fingerprints, now, self.lease
            ):
                return Claim(table, user_id, key, now), None
            row = (await connection.execute(select(table).where(this_key))).one()
        return None, _Stored(
            row.fingerprint, row.state, row.status_code, row.headers, row.body, row.created_at
        )

    async def _take_over(
        self,
        connection: AsyncConnection,
        this_key: ColumnElement[bool],
        fingerprints: tuple[str, ...],
        now: datetime,
        lease: timedelta,
    ) -> bool:
        """An attempt that never took effect within its lease died: take its claim over
        (one retry wins; the others see the new claim as running)."""
        table = self.table
        result = await connection.execute(
            update(table)
            .where(
                this_key,
                table.c.state == PROCESSING,
                table.c.fingerprint.in_(fingerprints),
                table.c.created_at < now - lease,
            )
            .values(created_at=now)
        )
        return bool(result.rowcount)

    async def _answer_repeat(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        stored: _Stored,
        fingerprints: tuple[str, ...],
    ) -> None:
        path = scope.get("path")
        if stored.fingerprint not in fingerprints:
            problem = Problem(
                422,
                "This Idempotency-Key was used with a different request.",
                kind="idempotency-key-reused",
            )
            await problem_response(problem, path)(scope, receive, send)
            return
        claimed_at = stored.created_at.replace(tzinfo=stored.created_at.tzinfo or UTC)
        lease = self.lease or self.ttl
        withheld = stored.state == COMPLETED and _not_to_store(stored.headers or [])
        if withheld or (stored.state == COMMITTED and claimed_at < datetime.now(UTC) - lease):
            stored_headers = {name.lower(): value for name, value in stored.headers or []}
            location = stored_headers.get("location")
            problem = Problem(
                409,
                "The request with this Idempotency-Key took effect, but its response "
                f"{'is not kept' if withheld else 'was lost'}; read the resource it created "
                "or changed.",
                kind="idempotency-key-in-use",
                headers={"Location": location} if location else None,
            )
            await problem_response(problem, path)(scope, receive, send)
            return
        if stored.state != COMPLETED or stored.status_code is None:
            problem = Problem(
                409,
                "A request with this Idempotency-Key is still being processed.",
                kind="idempotency-key-in-use",
                headers={"Retry-After": "1"},
            )
            await problem_response(problem, path)(scope, receive, send)
            return
        body = stored.body or b""
        headers = [(name.encode(), value.encode()) for name, value in stored.headers or []]
        # Its length, as the first answer had: a proxy that rewrites whole answers (the
        # gateway, for a problem's `instance`) treats the replay as it did the original.
        headers.append((b"content-length", str(len(body)).encode()))
        headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
        await send(
            {"type": "http.response.start", "status": stored.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})

    async def _run_and_store(self, scope: Scope, body: bytes, send: Send, claim: Claim) -> None:
        """Run the request and keep its answer for retries. The answer's last message waits
        until the key is settled (answer stored, or claim released), so a retry sent once
        the client has the whole answer is replayed (or runs) instead of being told the
        first attempt is still under way."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        delivered = False
        last: Message | None = None

        async def replay_body() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            nonlocal last
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    last = message
                    return
            await send(message)

        try:
            await self._run(scope, replay_body, capture, claim)
            await self._settle(claim, start, chunks)
        finally:
            if last is not None:
                await send(last)

    async def _run(self, scope: Scope, receive: Receive, send: Send, claim: Claim) -> None:
        token = _current_claim.set(claim)
        try:
            await self.app(scope, receive, send)
        except BaseException:
            await self._release(claim)
            raise
        finally:
            _current_claim.reset(token)

    async def _settle(self, claim: Claim, start: Message, chunks: list[bytes]) -> None:
        status = int(start.get("status", 500))
        if status >= 500 or (status in _TRY_AGAIN and not claim.committed):
            await self._release(claim)
            return
        headers = [
            [name.decode("latin-1"), value.decode("latin-1")]
            for name, value in start.get("headers", [])
            if name.lower() not in (b"x-request-id", b"content-length", b"date")
        ]
        kept = None if _not_to_store(headers) else b"".join(chunks)
        try:
            await self._store(claim, status, headers, kept)
        except Exception as exc:
            if not is_database_outage(exc):
                raise
            # The answer goes out; a retry finds the claim as the effect's transaction left it.
            log.warning("could not store the answer for Idempotency-Key %s: %s", claim.key, exc)

    async def _store(
        self, claim: Claim, status: int, headers: list[list[str]], body: bytes | None
    ) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                update(self.table)
                .where(self._ours(claim))
                .values(state=COMPLETED, status_code=status, headers=headers, body=body)
            )

    def _ours(self, claim: Claim) -> ColumnElement[bool]:
        table = self.table
        return and_(
            table.c.user_id == claim.user_id,
            table.c.key == claim.key,
            table.c.created_at == claim.claimed_at,
        )

    async def _release(self, claim: Claim) -> None:
        """Forget a claim that took no effect, so the client may retry at once; a claim
        whose effect is committed stays, and a retry's claim is not this attempt's."""
        try:
            async with self.engine.begin() as connection:
                await connection.execute(
                    delete(self.table).where(self._ours(claim), self.table.c.state == PROCESSING)
                )
        except Exception:
            log.exception("could not release Idempotency-Key %s", claim.key)


def _not_to_store(headers: Sequence[Sequence[str]]) -> bool:
    """Whether the response forbids keeping a copy of it (`Cache-Control: no-store`)."""
    return any(
        name.lower() == "cache-control" and "no-store" in value.lower() for name, value in headers
    )


def _fingerprints(scope: Scope, body: bytes) -> tuple[str, ...]:
    """The request's fingerprint, the one stored with a new claim, first: over the body's
    canonical form (JSON with its members sorted and no white space, a form's parameters
    sorted), so the same document sent again in another member order or layout is the
    same request, with every secret's value left out (`SECRET_MEMBERS`). Then the
    fingerprint of the bytes as they came, which claims made before bodies were made
    canonical hold, so a retry of one still matches (it is compared, never stored)."""
    canonical = _canonical_json(body)
    if canonical is None:
        canonical = _canonical_form(scope, body)
    if canonical == body:
        return (_fingerprint(scope, body),)
    return (_fingerprint(scope, canonical), _fingerprint(scope, body))


def _canonical_json(body: bytes) -> bytes | None:
    try:
        document = json.loads(body)
    except ValueError:  # not JSON (nor UTF-8)
        return None
    return json.dumps(_without_secrets(document), sort_keys=True, separators=(",", ":")).encode()


def _without_secrets(document: Any) -> Any:
    if isinstance(document, dict):
        return {
            name: _SECRET_MARK if name in SECRET_MEMBERS else _without_secrets(value)
            for name, value in document.items()
        }
    if isinstance(document, list):
        return [_without_secrets(item) for item in document]
    return document


def _canonical_form(scope: Scope, body: bytes) -> bytes:
    """A form's parameters sorted, secrets left out; any other body as it came."""
    content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
    if content_type.split(b";")[0].strip().lower() != b"application/x-www-form-urlencoded":
        return body
    # Latin-1 maps each byte to one character and back: any bytes survive unchanged.
    pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    parameters = sorted(
        (name, _SECRET_MARK if name in SECRET_MEMBERS else value) for name, value in pairs
    )
    return urlencode(parameters, encoding="latin-1").encode("latin-1")


def _fingerprint(scope: Scope, body: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(scope["method"].encode())
    digest.update(b"\0" + scope.get("path", "").encode())
    digest.update(b"\0" + scope.get("query_string", b""))
    digest.update(b"\0" + body)
    return digest.hexdigest()


async def prune_idempotency_keys(engine: AsyncEngine, table: Table, ttl: timedelta) -> int:
    async with engine.begin() as connection:
        result = await connection.execute(
            delete(table).where(table.c.created_at < datetime.now(UTC) - ttl)
        )
    return int(result.rowcount)
