"""RFC 8725 token checks at a service: only a well-formed, current, correctly signed access
token for this audience and issuer gets through; every refusal looks the same."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from shared_schemas.identity import TokenSigner, development_signer
from shared_schemas.identity.development import DEVELOPMENT_EMPLOYEE_IDS
from shared_schemas.identity.tokens import (
    ALGORITHM,
    LATEST_NUMERIC_DATE,
    InvalidToken,
    numeric_date,
)
from tests.support.identity import new_signer

pytestmark = pytest.mark.security

EMPLOYEE = uuid.UUID("5d4ad3c7-8a44-4a57-9a7e-0c33c0a8c1b1")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base = {
        "iss": "crm-erp-gateway",
        "aud": "crm-erp-api",
        "sub": "user-1",
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "jti": str(uuid.uuid4()),
        "typ": "access",
        "roles": ["sales"],
        "employee_id": str(EMPLOYEE),
    }
    return {**base, **overrides}


async def test_a_valid_access_token_yields_the_principal(
    client: httpx.AsyncClient, signer: TokenSigner
) -> None:
    token = signer.issue(subject="user-1", roles=["sales", "support"], employee_id=EMPLOYEE)
    response = await client.get("/whoami", headers=bearer(token))
    assert response.status_code == 200
    assert response.json() == {
        "user_id": "user-1",
        "roles": ["sales", "support"],
        "employee_id": str(EMPLOYEE),
    }


async def test_probes_need_no_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/metrics")).status_code == 200


# NumericDates no verifier may take (RFC 7519 §2: a JSON number of seconds since the epoch).
HOSTILE_NUMERIC_DATES: list[tuple[str, str, Any]] = [
    ("exp", "past any date (10**20)", 10**20),
    ("exp", "1e300", 1e300),
    ("exp", "10**400", 10**400),
    ("exp", "Infinity", float("inf")),
    ("exp", "NaN", float("nan")),
    ("exp", "a numeric string", "4102444800"),  # 2100-01-01, as text
    ("exp", "a list", [1]),
    ("iat", "true", True),
    ("iat", "before the epoch", -(10**20)),
    ("iat", "-Infinity", float("-inf")),
    ("nbf", "true", True),
    ("nbf", "a string", "yesterday"),
    ("nbf", "an object", {}),
]


def _refused_tokens(signer: TokenSigner) -> dict[str, str | None]:
    private = signer._key  # the test's own key, to forge variants
    stranger = new_signer("test-key-1")  # same key id, different key
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    headers = {"kid": signer.key_id}
    now = datetime.now(UTC)

    def signed(payload: dict[str, Any], **header: Any) -> str:
        return jwt.encode(payload, private, algorithm=ALGORITHM, headers={**headers, **header})

    unsigned = (
        b64({"alg": "none", "typ": "JWT", "kid": signer.key_id})
        + "."
        + b64({k: (v.timestamp() if isinstance(v, datetime) else v) for k, v in claims().items()})
    )
    # Key confusion: HMAC "signed" with the public key's text as the shared secret.
    confused = _hmac_with(claims(), public_pem, signer.key_id)
    return {
        "missing": None,
        "garbage": "not-a-token",
        "alg none": unsigned + ".",
        "key confusion (HS256 with the public key)": confused,
        "expired": signed(claims(exp=now - timedelta(minutes=2), iat=now - timedelta(hours=1))),
        "not yet valid": signed(claims(nbf=now + timedelta(minutes=5))),
        "wrong audience": signed(claims(aud="someone-else")),
        "wrong issuer": signed(claims(iss="https://evil.example")),
        "unknown key id": signed(claims(), kid="unknown-key"),
        "no key id": jwt.encode(claims(), private, algorithm=ALGORITHM),
        "signed by another key": stranger.issue(subject="u", roles=["admin"], employee_id=None),
        "refresh token used as access": signer.issue(
            subject="user-1", roles=["sales"], employee_id=EMPLOYEE, token_type="refresh"
        ),
        "no expiry": signed({k: v for k, v in claims().items() if k != "exp"}),
        # Signed by the trusted key, but no usable date: refused, never a 500.
        **{
            f"{name} {label}": signed(claims(**{name: value}))
            for name, label, value in HOSTILE_NUMERIC_DATES
        },
        "a NUL in the subject": signed(claims(sub="user-1\x00")),
        "a lone surrogate in the subject": signed(claims(sub="user-\ud800")),
        "an empty subject": signed(claims(sub="")),
        "employee_id a number": signed(claims(employee_id=5)),
        "employee_id a list": signed(claims(employee_id=[str(EMPLOYEE)])),
        "employee_id an object": signed(claims(employee_id={})),
        "tampered roles": _tampered(signer.issue(subject="u", roles=["sales"], employee_id=None)),
    }


def _hmac_with(payload: dict[str, Any], secret: str, key_id: str) -> str:
    import hashlib
    import hmac

    header = b64({"alg": "HS256", "typ": "JWT", "kid": key_id})
    body = b64({k: (v.timestamp() if isinstance(v, datetime) else v) for k, v in payload.items()})
    mac = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    decoded["roles"] = ["admin"]
    return f"{header}.{b64(decoded)}.{signature}"


async def test_every_untrustworthy_token_gets_the_same_401(
    client: httpx.AsyncClient, signer: TokenSigner
) -> None:
    bodies = {}
    for case, token in _refused_tokens(signer).items():
        response = await client.get("/whoami", headers=bearer(token) if token else {})
        assert response.status_code == 401, case
        assert response.headers["content-type"] == "application/problem+json", case
        assert response.headers["www-authenticate"] == (
            'Bearer error="invalid_token"' if token else "Bearer"
        ), case
        body = response.json()
        body.pop("instance", None)
        bodies[case] = body
    distinct = {json.dumps(body, sort_keys=True) for body in bodies.values()}
    assert len(distinct) == 1, f"refusals differ and leak the reason: {bodies}"
    assert next(iter(bodies.values()))["detail"] == "A valid access token is required."


async def test_fractional_numeric_dates_are_numeric_dates(
    client: httpx.AsyncClient, signer: TokenSigner
) -> None:
    now = datetime.now(UTC).timestamp()
    payload = claims(iat=now - 0.5, nbf=now - 0.25, exp=now + 299.75)
    token = jwt.encode(payload, signer._key, algorithm=ALGORITHM, headers={"kid": signer.key_id})
    assert (await client.get("/whoami", headers=bearer(token))).status_code == 200


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (1_800_000_000, datetime(2027, 1, 15, 8, tzinfo=UTC)),
        (1_800_000_000.5, datetime(2027, 1, 15, 8, 0, 0, 500_000, tzinfo=UTC)),
        (LATEST_NUMERIC_DATE.timestamp(), LATEST_NUMERIC_DATE),
        (None, None),
    ],
)
def test_a_numeric_date_is_a_number_of_seconds_within_range(
    value: float | None, expected: datetime | None
) -> None:
    assert numeric_date({"exp": value}, "exp") == expected


@pytest.mark.parametrize(
    ("name", "label", "value"),
    HOSTILE_NUMERIC_DATES,
    ids=[f"{name} {label}" for name, label, _ in HOSTILE_NUMERIC_DATES],
)
def test_anything_else_is_an_invalid_token(name: str, label: str, value: Any) -> None:
    with pytest.raises(InvalidToken, match=f"^{name} is (not a number|out of range)$"):
        numeric_date({name: value}, name)


def test_the_latest_numeric_date_leaves_room_for_arithmetic() -> None:
    # The verifier adds clock skew to an expiry; callers add lifetimes to dates.
    assert LATEST_NUMERIC_DATE + timedelta(days=365 * 900) < datetime.max.replace(tzinfo=UTC)
    with pytest.raises(InvalidToken, match=r"^exp is out of range$"):
        numeric_date({"exp": LATEST_NUMERIC_DATE.timestamp() + 1}, "exp")


async def test_a_basic_authorization_header_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/whoami", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    # No bearer token came: the bare challenge, without an error code (RFC 6750 §3.1).
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == "A valid access token is required."


async def test_unknown_roles_grant_nothing(client: httpx.AsyncClient, signer: TokenSigner) -> None:
    token = signer.issue(subject="u", roles=["superuser"], employee_id=None)
    response = await client.get("/whoami", headers=bearer(token))
    assert response.json()["roles"] == []
    lead = uuid.uuid4()
    changed = await client.patch(f"/leads/{lead}", json={}, headers=bearer(token))
    assert changed.status_code == 403
    assert changed.json()["detail"] == "Your role may not update leads."


async def test_development_key_is_trusted_only_in_development(
    development_client: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    token = development_signer().issue(
        subject="dev-sales", roles=["sales"], employee_id=DEVELOPMENT_EMPLOYEE_IDS["sales"]
    )
    trusted = await development_client.get("/whoami", headers=bearer(token))
    assert (trusted.status_code, trusted.json()["user_id"]) == (200, "dev-sales")
    # A service configured with real keys does not accept the published development key.
    refused = await client.get("/whoami", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "A valid access token is required."
