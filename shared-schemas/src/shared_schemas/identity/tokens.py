"""JSON Web Tokens of this platform: issuing (gateway, tests, `make token`) and verifying.

One algorithm, EdDSA over Ed25519, pinned on both sides (RFC 8725): a token whose header
names any other algorithm, or whose key is not an Ed25519 key, is refused before any
signature check, which rules out `alg: none` and key-confusion attacks.

A signed token is still untrusted input to parse: every claim is checked for its type and
range before it is used (`numeric_date` for `exp`, `iat` and `nbf`), so a token signed by
a trusted key with an absurd claim is refused like any other bad token, never a 500.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from jwt.algorithms import OKPAlgorithm

from shared_schemas.roles import Role

ALGORITHM = "EdDSA"
TokenType = Literal["access", "refresh"]
REQUIRED_CLAIMS = ("iss", "aud", "sub", "exp", "iat", "nbf", "jti", "typ")
TIME_CLAIMS = ("exp", "iat", "nbf")
# The latest instant a NumericDate may name: beyond any token's life, and far enough from
# the end of `datetime`'s range (year 9999) that adding clock skew or a lifetime to it,
# or comparing it with now, stays within that range.
LATEST_NUMERIC_DATE = datetime(9000, 1, 1, tzinfo=UTC)
_LATEST_SECONDS = int(LATEST_NUMERIC_DATE.timestamp())


class InvalidToken(Exception):
    """The token cannot be trusted. The reason is for logs only, never for the client."""


def numeric_date(claims: dict[str, Any], name: str) -> datetime | None:
    """The NumericDate claim `name` (RFC 7519 §2: seconds since the epoch, a JSON number)
    as a datetime, None when absent; InvalidToken when it is no number (a string, a
    boolean, anything else), not finite, before the epoch or past LATEST_NUMERIC_DATE."""
    value = claims.get(name)
    if value is None:
        return None
    # bool is an int to Python, and PyJWT's own checks accept "123" and true alike.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidToken(f"{name} is not a number")
    # NaN fails every comparison, infinities the bounds.
    if not 0 <= value <= _LATEST_SECONDS:
        raise InvalidToken(f"{name} is out of range")
    return datetime.fromtimestamp(value, UTC)


def usable_text(value: object) -> bool:
    """Whether a claim is text a database can store and compare: a non-empty string
    without NUL (PostgreSQL refuses it) and without a lone surrogate (JSON may escape one,
    `"\\ud800"`, which no UTF-8 encodes)."""
    if not isinstance(value, str) or not value or "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_numeric_dates(claims: dict[str, Any], names: Iterable[str] = TIME_CLAIMS) -> None:
    """InvalidToken unless each of the NumericDate claims `names` present is usable."""
    for name in names:
        numeric_date(claims, name)


class KeysUnavailable(Exception):
    """The verification keys cannot be fetched and none are cached."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, the employee they are, and their roles."""

    user_id: str
    roles: frozenset[Role]
    employee_id: uuid.UUID | None
    token_id: str
    expires_at: datetime

    def has_any(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def actor(self) -> str:
        """The id recorded as `actor` on the events this principal causes."""
        return self.user_id


class KeySource(Protocol):
    async def key_for(self, key_id: str) -> jwt.PyJWK | None: ...


class TokenSigner:
    """Issues tokens with one Ed25519 private key, named by `key_id` in every header."""

    def __init__(self, private_key_pem: str, key_id: str, *, issuer: str, audience: str) -> None:
        key = load_pem_private_key(private_key_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the signing key must be an Ed25519 private key")
        self._key = key
        self.key_id = key_id
        self.issuer = issuer
        self.audience = audience

    def issue(
        self,
        *,
        subject: str,
        roles: Iterable[str],
        employee_id: uuid.UUID | str | None,
        token_type: TokenType = "access",  # noqa: S107 - a token kind, not a secret
        lifetime: timedelta = timedelta(minutes=15),
        now: datetime | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        issued = now or datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": issued,
            "nbf": issued,
            "exp": issued + lifetime,
            "jti": str(uuid.uuid4()),
            "typ": token_type,
            "roles": sorted(set(roles)),
            "employee_id": str(employee_id) if employee_id else None,
            **(extra or {}),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.key_id})

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK, for a JWKS document."""
        jwk: dict[str, Any] = OKPAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {**jwk, "kid": self.key_id, "alg": ALGORITHM, "use": "sig"}


class Revocations(Protocol):
    async def refused(self, principal: Principal) -> str | None:
        """Why the principal's tokens are not trusted any more (its user disabled, its
        employee terminated), or None."""
        ...


class TokenVerifier:
    """Checks signature, algorithm, issuer, audience, lifetime and type of a token, and
    with `revoked` whether its user or employee was revoked since it was issued.

    A verified token is remembered until it expires (a token never changes), so a client
    sending the same token on every request pays for one signature check, not hundreds;
    revocation is asked on every use.
    """

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        leeway: timedelta = timedelta(0),
        cache_size: int = 10_000,
        revoked: Revocations | None = None,
    ) -> None:
        self.keys = keys
        self.revoked = revoked
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.cache_size = cache_size
        self._verified: OrderedDict[tuple[str, str], Principal] = OrderedDict()

    async def verify(
        self,
        token: str,
        *,
        token_type: TokenType = "access",  # noqa: S107 - a token kind
    ) -> Principal:
        principal = await self._verified_principal(token, token_type)
        if self.revoked is not None:
            reason = await self.revoked.refused(principal)
            if reason is not None:
                raise InvalidToken(reason)
        return principal

    async def _verified_principal(self, token: str, token_type: TokenType) -> Principal:
        key = (token, token_type)
        cached = self._verified.get(key)
        if cached is not None:
            if datetime.now(UTC) < cached.expires_at + self.leeway:
                self._verified.move_to_end(key)
                return cached
            del self._verified[key]
        principal = await self._verify(token, token_type)
        self._verified[key] = principal
        if len(self._verified) > self.cache_size:
            self._verified.popitem(last=False)
        return principal

    async def _verify(self, token: str, token_type: TokenType) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"unreadable header: {exc}") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
        key_id = header.get("kid")
        if not isinstance(key_id, str) or not key_id:
            raise InvalidToken("no key id")
        key = await self.keys.key_for(key_id)
        if key is None:
            raise InvalidToken(f"unknown key id {key_id!r}")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(str(exc)) from exc
        check_numeric_dates(claims)
        return _principal(claims, token_type)


def _principal(claims: dict[str, Any], token_type: TokenType) -> Principal:
    if claims.get("typ") != token_type:
        raise InvalidToken(f"a {claims.get('typ')!r} token is not an {token_type} token")
    subject, roles = claims.get("sub"), claims.get("roles", [])
    if not isinstance(subject, str) or not usable_text(subject):
        raise InvalidToken("no usable subject")
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise InvalidToken("roles must be a list of strings")
    known = {role.value for role in Role}
    employee = claims.get("employee_id")
    if employee is not None and not isinstance(employee, str):
        raise InvalidToken("employee_id is not a UUID")
    try:
        employee_id = uuid.UUID(employee) if employee is not None else None
    except ValueError as exc:
        raise InvalidToken("employee_id is not a UUID") from exc
    expires_at = numeric_date(claims, "exp")
    if expires_at is None:
        raise InvalidToken("no expiry")
    return Principal(
        user_id=subject,
        # A role this version does not know grants nothing.
        roles=frozenset(Role(role) for role in roles if role in known),
        employee_id=employee_id,
        token_id=str(claims["jti"]),
        expires_at=expires_at,
    )
