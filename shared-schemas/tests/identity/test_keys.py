"""Keys from the gateway's JWKS URL: cached, re-fetched on rotation, survive an outage;
production refuses the development key wherever it would come from."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from shared_schemas.broker import free_port
from shared_schemas.identity import (
    DEFAULT_AUDIENCE,
    DEFAULT_ISSUER,
    IdentityConfig,
    InvalidToken,
    KeysUnavailable,
    RemoteKeys,
    TokenSigner,
    development_signer,
    verifier,
)
from shared_schemas.identity.development import DEVELOPMENT_PRIVATE_KEY_PEM
from tests.support.identity import ProtectedSettings, app_client, jwks_of, new_signer
from tests.support.kafka_tools import eventually

pytestmark = pytest.mark.security


class JwksServer:
    """A real HTTP server publishing a JWKS document that the test can change or stop."""

    def __init__(self) -> None:
        self.document: Any = {"keys": []}
        self.requests = 0
        self.port = free_port()
        app = FastAPI()

        @app.get("/.well-known/jwks.json")
        async def jwks() -> Any:
            self.requests += 1
            return self.document

        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"

    async def start(self) -> None:
        self.server.should_exit = False
        self.task = asyncio.create_task(self.server.serve())

        async def serving() -> bool:
            return self.server.started

        await eventually(serving, timeout=10, what="the JWKS server serving")

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task
        self.server.started = False


@asynccontextmanager
async def jwks_server() -> AsyncIterator[JwksServer]:
    server = JwksServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_rotated_key_is_fetched_when_a_token_names_it() -> None:
    old, new = new_signer("key-2026-01"), new_signer("key-2026-02")
    async with jwks_server() as server:
        server.document = jwks_of(old)
        keys = RemoteKeys(server.url, min_refresh=0.0)
        check = verifier(IdentityConfig(jwks_url=server.url, development=False))
        check.keys = keys
        assert (await check.verify(old.issue(subject="a", roles=[], employee_id=None))).user_id
        assert server.requests == 1
        await check.verify(old.issue(subject="a", roles=[], employee_id=None))
        assert server.requests == 1, "known keys are served from the cache"

        server.document = jwks_of(old, new)
        principal = await check.verify(new.issue(subject="b", roles=["hr"], employee_id=None))
        assert principal.user_id == "b"
        assert server.requests == 2


async def test_cached_keys_keep_working_while_the_gateway_is_down() -> None:
    signer = new_signer()
    async with jwks_server() as server:
        server.document = jwks_of(signer)
        keys = RemoteKeys(server.url, ttl=0.0, min_refresh=0.0)
        check = verifier(IdentityConfig(jwks_url=server.url, development=False))
        check.keys = keys
        token = signer.issue(subject="a", roles=["sales"], employee_id=None)
        assert (await check.verify(token)).user_id == "a"
        assert server.requests == 1
    # The server is gone; the cache is stale but nothing better is available.
    assert (await check.verify(token)).user_id == "a"


async def test_without_reachable_keys_a_service_answers_503_not_401(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"
    settings = ProtectedSettings(jwks_url=url)
    token = new_signer().issue(subject="a", roles=["sales"], employee_id=None)
    async with await app_client(settings, tmp_path) as client:
        response = await client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["type"].endswith("dependency-unavailable")
    with pytest.raises(KeysUnavailable):
        await RemoteKeys(url).key_for("any")


@pytest.mark.parametrize("document", [[], {"keys": {}}, "keys"], ids=["list", "map", "text"])
async def test_a_jwks_url_answering_something_else_is_keys_unavailable(document: Any) -> None:
    async with jwks_server() as server:
        server.document = document
        with pytest.raises(KeysUnavailable):
            await RemoteKeys(server.url).key_for("any")


async def test_production_never_trusts_the_development_key() -> None:
    development = development_signer()
    token = development.issue(subject="dev", roles=["admin"], employee_id=None)
    async with jwks_server() as server:
        server.document = jwks_of(development, other := new_signer("prod-1"))
        production = verifier(IdentityConfig(jwks_url=server.url, development=False))
        with pytest.raises(InvalidToken, match="unknown key id"):
            await production.verify(token)
        good = other.issue(subject="ops", roles=["admin"], employee_id=None)
        assert (await production.verify(good)).user_id == "ops"


async def test_production_never_trusts_the_development_key_under_another_id() -> None:
    renamed = {**development_signer().public_jwk(), "kid": "innocent-looking"}
    token = TokenSigner(
        DEVELOPMENT_PRIVATE_KEY_PEM,
        "innocent-looking",
        issuer=DEFAULT_ISSUER,
        audience=DEFAULT_AUDIENCE,
    ).issue(subject="dev", roles=["admin"], employee_id=None)
    async with jwks_server() as server:
        server.document = {"keys": [renamed, *jwks_of(new_signer("prod-1"))["keys"]]}
        production = verifier(IdentityConfig(jwks_url=server.url, development=False))
        with pytest.raises(InvalidToken, match="unknown key id"):
            await production.verify(token)
    with pytest.raises(ValidationError, match="development key"):
        ProtectedSettings(environment="production", jwks=json.dumps({"keys": [renamed]}))


def test_production_settings_refuse_to_start_without_keys_or_with_the_development_key() -> None:
    with pytest.raises(ValidationError, match="JWKS"):
        ProtectedSettings(environment="production")
    with pytest.raises(ValidationError, match="development key"):
        ProtectedSettings(environment="production", jwks=json.dumps(jwks_of(development_signer())))
    accepted = ProtectedSettings(environment="production", jwks=json.dumps(jwks_of(new_signer())))
    assert accepted.environment == "production"
    assert ProtectedSettings(environment="production", jwks_url="https://gw/jwks").jwks_url


def test_signer_refuses_a_key_that_is_not_ed25519() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ValueError, match="Ed25519"):
        TokenSigner(pem, "k", issuer="i", audience="a")


async def test_a_jwks_with_other_key_types_only_is_refused_up_front() -> None:
    from shared_schemas.identity import StaticKeys

    rsa_only = {"keys": [{"kty": "RSA", "kid": "r1", "n": "AQAB", "e": "AQAB"}]}
    with pytest.raises(ValueError, match="no Ed25519"):
        StaticKeys(rsa_only)
    _ = httpx  # the remote variant is covered by the server tests above
