"""Test keys, token minting and a small service app with protected routes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Depends, FastAPI
from pydantic_settings import SettingsConfigDict
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.database import create_engine
from shared_schemas.identity import (
    Access,
    Authorize,
    CurrentPrincipal,
    TokenSigner,
    development_signer,
)
from shared_schemas.messaging import KafkaSettings, Workers, messaging_tables
from shared_schemas.messaging.tables import MessagingTables
from shared_schemas.service import ServiceSettings, create_service_app

ISSUER, AUDIENCE = "crm-erp-gateway", "crm-erp-api"


def new_signer(key_id: str = "test-key-1", **overrides: str) -> TokenSigner:
    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    options = {"issuer": ISSUER, "audience": AUDIENCE, **overrides}
    return TokenSigner(pem, key_id, **options)


def jwks_of(*signers: TokenSigner) -> dict[str, Any]:
    return {"keys": [signer.public_jwk() for signer in signers]}


class ProtectedSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TEST_SERVICE_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///:memory:"
    port: int = 0


def protected_router() -> APIRouter:
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(principal: CurrentPrincipal) -> dict[str, Any]:
        return {
            "user_id": principal.user_id,
            "roles": sorted(principal.roles),
            "employee_id": str(principal.employee_id) if principal.employee_id else None,
        }

    @router.patch("/leads/{owner_id}")
    async def change_lead(
        owner_id: uuid.UUID,
        body: dict[str, Any],
        access: Annotated[Access, Depends(Authorize("crm", "leads", "update"))],
    ) -> dict[str, str]:
        access.require_owner(owner_id)
        access.require_fields(body)
        return {"status": "changed"}

    return router


def shell_app(
    settings: ServiceSettings,
    engine: AsyncEngine,
    tables: MessagingTables,
    routers: Sequence[APIRouter],
) -> FastAPI:
    """A test service: `routers` in the shell every service runs in (tokens, problems,
    Idempotency-Key, body and NUL checks), on `engine` and its messaging `tables`."""
    workers = Workers(name="test", engine=engine, tables=tables, kafka=KafkaSettings())
    return create_service_app(
        service="crm",
        title="test",
        description="",
        settings=settings,
        engine=engine,
        workers=workers,
        routers=routers,
    )


def shell_client(
    settings: ServiceSettings,
    engine: AsyncEngine,
    tables: MessagingTables,
    routers: Sequence[APIRouter],
) -> httpx.AsyncClient:
    """A client of `shell_app(...)`. An exception a route lets out is answered as the shell
    answers it."""
    app = shell_app(settings, engine, tables, routers)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://service")


async def app_client(settings: ServiceSettings, tmp_path: Path) -> httpx.AsyncClient:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}")
    return shell_client(settings, engine, messaging_tables(MetaData()), [protected_router()])


def development_bearer(role: str) -> dict[str, str]:
    """An Authorization header with a token of the development key for one role, as a
    service in development mode (ProtectedSettings) accepts it."""
    issued = development_signer().issue(subject=f"{role}-1", roles=[role], employee_id=None)
    return {"Authorization": f"Bearer {issued}"}
