"""Signing in at the gateway under test: users made through its API, token pairs, clients
from other addresses, gateways with settings of a test's own, and an external OIDC issuer
(an RSA key whose JWKS a local HTTP handler serves)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, generate_private_key
from fastapi import FastAPI
from jwt.algorithms import RSAAlgorithm

from gateway.config import Settings
from gateway.main import create_app
from shared_schemas.broker import free_port
from tests.support.databases import fresh_postgres_database, postgres_admin_url
from tests.support.gateway import SIGNER, Gateway
from tests.support.harness import migrate
from tests.support.identity import jwks_of

PASSWORD = "correct horse battery staple"


def new_pem() -> str:
    """A fresh Ed25519 private key, PEM (PKCS#8): a gateway signing key of a test's own."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def without_instance(problem: dict[str, Any]) -> dict[str, Any]:
    """A problem document without its `instance` (the path), to compare answers."""
    return {name: value for name, value in problem.items() if name != "instance"}


def claims_of(token: str) -> dict[str, Any]:
    """A token's claims, read without checking anything (for assertions only)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def create_user(
    gateway: Gateway,
    username: str,
    *,
    roles: list[str] | None = None,
    password: str = PASSWORD,
    **fields: Any,
) -> dict[str, Any]:
    body = {"username": username, "password": password, "roles": roles or ["sales"], **fields}
    response = await gateway.client.post("/auth/users", json=body, headers=gateway.headers("admin"))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    form = {"grant_type": "password", "username": username, "password": password}
    return await client.post("/auth/token", data=form)


async def token_pair(client: httpx.AsyncClient, username: str, password: str) -> dict[str, Any]:
    response = await sign_in(client, username, password)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return await client.post("/auth/token", data=form)


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client of `app` whose requests come from `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 40_000))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


def settings_for(database_url: str, **overrides: Any) -> Settings:
    """Gateway settings trusting the test key (as the `gateway` fixture's), and more."""
    return Settings(database_url=database_url, jwks=json.dumps(jwks_of(SIGNER)), **overrides)


@asynccontextmanager
async def gateway_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The gateway with `settings`, on its migrated database (no lifespan run)."""
    await migrate("gateway", settings.database_url)
    app = create_app(settings)
    try:
        yield app
    finally:
        await app.state.engine.dispose()


@dataclass
class GatewayApp(Gateway):
    """The `Gateway` harness with its app at hand (clients from other addresses, the
    consumer's applier, the lifespan)."""

    app: FastAPI

    def client_from(self, address: str) -> httpx.AsyncClient:
        return client_from(self.app, address)


@asynccontextmanager
async def gateway_of(settings: Settings, address: str = "127.0.0.1") -> AsyncIterator[GatewayApp]:
    """`gateway_app` as the `Gateway` harness (admin tokens of the test key)."""
    async with gateway_app(settings) as app, client_from(app, address) as client:
        yield GatewayApp(client, settings, SIGNER, app)


async def run_lifespan(app: FastAPI) -> None:
    """Start and stop `app` as a server would (what it does at start runs)."""
    async with app.router.lifespan_context(app):
        return  # started; leaving the block shuts it down


@asynccontextmanager
async def another_database(database_url: str, directory: Path) -> AsyncIterator[str]:
    """An empty database on the same backend as `database_url` (another service's)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{directory / f'other-{uuid.uuid4().hex[:8]}.db'}"
        return
    admin_url = postgres_admin_url()
    assert admin_url is not None
    async with fresh_postgres_database(admin_url) as url:
        yield url


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unsigned_token(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A token put together by hand (`alg: none`, forged HMAC and the like)."""
    encoded = [b64url(json.dumps(part, default=str).encode()) for part in (header, claims)]
    return ".".join([*encoded, b64url(signature)])


def hs256_keyed_with(secret: bytes, key_id: str, claims: dict[str, Any]) -> str:
    """Algorithm confusion: an HMAC token keyed with a public key, as if it were a secret."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key_id}).encode())
    payload = b64url(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


class ExternalIssuer:
    """An external OIDC issuer: an RSA key, its JWKS, and tokens it signs."""

    def __init__(self, issuer: str = "https://idp.example.test", audience: str = "crm-erp") -> None:
        self.issuer = issuer
        self.audience = audience
        self.key: RSAPrivateKey = generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = f"idp-{uuid.uuid4().hex[:8]}"

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwks(self) -> dict[str, Any]:
        jwk: dict[str, Any] = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.key_id, "alg": "RS256", "use": "sig"}]}

    def token(
        self, subject: str, *, lifetime: timedelta = timedelta(minutes=5), **claims: Any
    ) -> str:
        now = datetime.now(UTC)
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "exp": now + lifetime,
            **claims,
        }
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": self.key_id})


@asynccontextmanager
async def serving_jwks(document: dict[str, Any]) -> AsyncIterator[str]:
    """A local HTTP handler serving `document` as a JWKS; its URL."""

    async def handle(_request: web.Request) -> web.Response:
        return web.json_response(document)

    application = web.Application()
    application.router.add_get("/jwks.json", handle)
    runner = web.AppRunner(application)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/jwks.json"
    finally:
        await runner.cleanup()
