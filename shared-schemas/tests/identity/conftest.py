"""Fixtures: a service that trusts a test key, and one in development mode."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from shared_schemas.identity import TokenSigner
from tests.support.identity import ProtectedSettings, app_client, jwks_of, new_signer


@pytest.fixture
def signer() -> TokenSigner:
    return new_signer()


@pytest.fixture
async def client(signer: TokenSigner, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A service that trusts `signer`'s key, configured inline as a production would."""
    settings = ProtectedSettings(jwks=json.dumps(jwks_of(signer)))
    async with await app_client(settings, tmp_path) as client:
        yield client


@pytest.fixture
async def development_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with await app_client(ProtectedSettings(), tmp_path) as client:
        yield client
