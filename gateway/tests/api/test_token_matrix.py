"""RFC 8725 at the edge and behind it: every kind of bad token is the same 401 problem
document, leaking nothing, at a gateway route (`GET /auth/users` as admin), at routes the
gateway proxies (`/api/crm/...`, `/api/erp/...`: refused at the edge, the service never
asked) and at CRM and ERP routes called directly (the services trusting the gateway's
published keys)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key
from fastapi import FastAPI

from crm.config import Settings as CrmSettings
from crm.main import create_app as create_crm_app
from erp.config import Settings as ErpSettings
from erp.main import create_app as create_erp_app
from shared_schemas.identity import TokenSigner
from tests.support.gateway_identity import (
    PASSWORD,
    another_database,
    bearer,
    create_user,
    gateway_of,
    hs256_keyed_with,
    new_pem,
    settings_for,
    token_pair,
    unsigned_token,
)
from tests.support.harness import migrate
from tests.support.identity import AUDIENCE, ISSUER, new_signer
from tests.support.stub_upstreams import StubUpstream

pytestmark = [pytest.mark.api, pytest.mark.security]

KEY_ID = "gateway-matrix-1"
PEM = new_pem()
GATEWAY_KEY = TokenSigner(PEM, KEY_ID, issuer=ISSUER, audience=AUDIENCE)


@dataclass
class Stack:
    gateway: httpx.AsyncClient
    crm: httpx.AsyncClient
    erp: httpx.AsyncClient
    # What the gateway proxies to: stand-ins that record every request reaching them.
    upstreams: dict[str, StubUpstream]
    pair: dict[str, Any]
    user_id: str


@asynccontextmanager
async def service_of(app: FastAPI, name: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as client:
            yield client
    finally:
        await app.state.engine.dispose()


@pytest.fixture(scope="module")
async def stack(
    module_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    async with StubUpstream() as crm_stub, StubUpstream() as erp_stub:
        settings = settings_for(
            module_database,
            signing_key_pem=PEM,
            signing_key_id=KEY_ID,
            crm_url=crm_stub.url,
            erp_url=erp_stub.url,
        )
        async with (
            gateway_of(settings) as gateway,
            another_database(module_database, tmp_path_factory.mktemp("crm")) as crm_database,
            another_database(module_database, tmp_path_factory.mktemp("erp")) as erp_database,
        ):
            try:
                user = await create_user(gateway, "matrix.admin", roles=["admin"])
                pair = await token_pair(gateway.client, "matrix.admin", PASSWORD)
                jwks = json.dumps((await gateway.client.get("/.well-known/jwks.json")).json())
                await migrate("crm-service", crm_database)
                await migrate("erp-service", erp_database)
                crm = create_crm_app(CrmSettings(database_url=crm_database, jwks=jwks))
                erp = create_erp_app(ErpSettings(database_url=erp_database, jwks=jwks))
                async with (
                    service_of(crm, "crm") as crm_client,
                    service_of(erp, "erp") as erp_client,
                ):
                    yield Stack(
                        gateway.client,
                        crm_client,
                        erp_client,
                        {"crm": crm_stub, "erp": erp_stub},
                        pair,
                        user["id"],
                    )
            finally:
                for upstream in gateway.app.state.upstreams.values():
                    await upstream.close()


def claims(user_id: str, **changes: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": user_id,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "matrix",
        "typ": "access",
        "roles": ["admin"],
        "employee_id": None,
        **changes,
    }


def public_pem() -> bytes:
    private = serialization.load_pem_private_key(PEM.encode(), password=None)
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def hs256_with_the_public_key(stack: Stack) -> str:
    return hs256_keyed_with(public_pem(), KEY_ID, claims(stack.user_id))


def rs256_from_an_unknown_key(stack: Stack) -> str:
    key = generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims(stack.user_id), key, algorithm="RS256", headers={"kid": KEY_ID})


def gateway_signed(stack: Stack, *, now: datetime | None = None, **options: str) -> str:
    signer = TokenSigner(
        PEM,
        options.get("kid", KEY_ID),
        issuer=options.get("issuer", ISSUER),
        audience=options.get("audience", AUDIENCE),
    )
    return signer.issue(
        subject=stack.user_id,
        roles=["admin"],
        employee_id=None,
        lifetime=timedelta(minutes=5),
        now=now,
    )


def gateway_signed_claims(stack: Stack, **changes: Any) -> str:
    """Claims of the test's choosing, signed by the gateway's own key: the signature is
    good, the claims are what is hostile."""
    key = serialization.load_pem_private_key(PEM.encode(), password=None)
    return jwt.encode(
        claims(stack.user_id, **changes), key, algorithm="EdDSA", headers={"kid": KEY_ID}
    )


def another_keys_signature_under_the_gateways_kid(stack: Stack) -> str:
    forger = new_signer(KEY_ID)
    return forger.issue(subject=stack.user_id, roles=["admin"], employee_id=None)


HOUR = timedelta(hours=1)
CASES: dict[str, Callable[[Stack], dict[str, str]]] = {
    "alg none": lambda s: bearer(unsigned_token({"alg": "none", "kid": KEY_ID}, claims(s.user_id))),
    "alg none without kid": lambda s: bearer(unsigned_token({"alg": "none"}, claims(s.user_id))),
    "HS256 keyed with the public key": lambda s: bearer(hs256_with_the_public_key(s)),
    "RS256 from an unknown key": lambda s: bearer(rs256_from_an_unknown_key(s)),
    "forged EdDSA signature": lambda s: bearer(another_keys_signature_under_the_gateways_kid(s)),
    "expired": lambda s: bearer(gateway_signed(s, now=datetime.now(UTC) - HOUR)),
    "not yet valid": lambda s: bearer(gateway_signed(s, now=datetime.now(UTC) + HOUR)),
    "wrong audience": lambda s: bearer(gateway_signed(s, audience="another-api")),
    "wrong issuer": lambda s: bearer(gateway_signed(s, issuer="someone-else")),
    "unknown kid": lambda s: bearer(gateway_signed(s, kid="retired-long-ago")),
    "refresh token used as access token": lambda s: bearer(s.pair["refresh_token"]),
    # Signed by the gateway's key, yet no date a token may carry (RFC 7519 NumericDate):
    # the same 401, not a 500 from turning them into dates.
    "exp past any date (10**20)": lambda s: bearer(gateway_signed_claims(s, exp=10**20)),
    "exp 1e300": lambda s: bearer(gateway_signed_claims(s, exp=1e300)),
    "exp Infinity": lambda s: bearer(gateway_signed_claims(s, exp=float("inf"))),
    "exp a numeric string": lambda s: bearer(
        gateway_signed_claims(s, exp=str(int(datetime.now(UTC).timestamp()) + 300))
    ),
    "exp a list": lambda s: bearer(gateway_signed_claims(s, exp=[10**20])),
    "iat true": lambda s: bearer(gateway_signed_claims(s, iat=True)),
    "iat before the epoch": lambda s: bearer(gateway_signed_claims(s, iat=-(10**20))),
    "nbf true": lambda s: bearer(gateway_signed_claims(s, nbf=True)),
    "nbf 1e300": lambda s: bearer(gateway_signed_claims(s, nbf=1e300)),
    "employee_id a number": lambda s: bearer(gateway_signed_claims(s, employee_id=5)),
    "garbage": lambda s: bearer("garbage"),
    "three dots of garbage": lambda s: bearer("a.b.c"),
    "missing Bearer scheme": lambda s: {"Authorization": s.pair["access_token"]},
    "Basic instead of Bearer": lambda s: {"Authorization": "Basic YWRtaW46ZGV2LWFkbWlu"},
    "no Authorization header": lambda s: {},
}


@dataclass(frozen=True)
class Target:
    """Where a token is presented: which client, which route, and for a proxied route the
    upstream it would be sent to."""

    client: str
    path: str
    upstream: str | None = None


TARGETS = {
    "gateway route": Target("gateway", "/auth/users"),
    "CRM through the gateway": Target("gateway", "/api/crm/customers", upstream="crm"),
    "ERP through the gateway": Target("gateway", "/api/erp/products", upstream="erp"),
    "CRM directly": Target("crm", "/customers"),
    "ERP directly": Target("erp", "/products"),
}


def client_of(stack: Stack, target: Target) -> httpx.AsyncClient:
    client: httpx.AsyncClient = getattr(stack, target.client)
    return client


def arrived_at(stack: Stack, target: Target) -> int:
    """Requests that reached the target's upstream so far (0 for a route served there)."""
    return len(stack.upstreams[target.upstream].arrived) if target.upstream else 0


@pytest.mark.parametrize("target", TARGETS)
async def test_a_valid_access_token_passes(stack: Stack, target: str) -> None:
    where = TARGETS[target]
    before = arrived_at(stack, where)
    response = await client_of(stack, where).get(
        where.path, headers=bearer(stack.pair["access_token"])
    )
    assert response.status_code == 200, response.text
    if where.upstream is not None:
        assert arrived_at(stack, where) == before + 1, "a good token is sent on"


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", CASES)
async def test_a_bad_token_is_the_one_401_that_says_nothing(
    stack: Stack, target: str, case: str
) -> None:
    where = TARGETS[target]
    headers = CASES[case](stack)
    before = arrived_at(stack, where)
    response = await client_of(stack, where).get(where.path, headers=headers)
    assert response.status_code == 401, response.text
    assert arrived_at(stack, where) == before, "refused at the edge, the service never asked"
    assert response.headers["content-type"] == "application/problem+json"
    # RFC 6750 §3.1: the error code only when a bearer token came at all.
    token_sent = headers.get("Authorization", "").startswith("Bearer ")
    assert response.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token"' if token_sent else "Bearer"
    )
    body = response.json()
    assert {name: value for name, value in body.items() if name != "instance"} == {
        "type": "https://errors.crm-erp.dev/unauthorized",
        "title": "Unauthorized",
        "status": 401,
        "detail": "A valid access token is required.",
    }
    text = response.text.lower()
    for leak in ("traceback", "exception", "expired", "audience", "issuer", "signature"):
        assert leak not in text, leak
    for secret in (GATEWAY_KEY.public_jwk()["x"], PEM.splitlines()[1], stack.user_id):
        assert secret.lower() not in text


async def test_the_signing_key_itself_is_never_served(stack: Stack) -> None:
    jwks = (await stack.gateway.get("/.well-known/jwks.json")).json()
    assert [key["kid"] for key in jwks["keys"]] == [KEY_ID]
    assert all("d" not in key for key in jwks["keys"])
    assert PEM.splitlines()[1] not in json.dumps(jwks)
