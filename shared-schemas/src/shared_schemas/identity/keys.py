"""Where verification keys come from: a JWKS document given in settings, or the gateway's
`/.well-known/jwks.json`, fetched and cached."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx
import jwt

from shared_schemas.identity.tokens import ALGORITHM, KeysUnavailable

log = logging.getLogger(__name__)


def _signing_keys(document: Mapping[str, Any], refused: frozenset[str]) -> dict[str, jwt.PyJWK]:
    """The Ed25519 signature keys of a JWKS document, by key id; others are ignored."""
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document.get("keys", []):
        if not isinstance(entry, dict):
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or kid in refused:
            continue
        # Pinned: only OKP/Ed25519 keys meant for EdDSA signatures can verify a token.
        if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
            continue
        if entry.get("alg", ALGORITHM) != ALGORITHM or entry.get("use", "sig") != "sig":
            continue
        try:
            keys[kid] = jwt.PyJWK(entry, algorithm=ALGORITHM)
        except jwt.PyJWTError as exc:
            log.warning("ignoring unusable key %s: %s", kid, exc)
    return keys


class StaticKeys:
    """Keys configured up front (a JWKS document as JSON)."""

    def __init__(self, document: Mapping[str, Any] | str, refused: frozenset[str] = frozenset()):
        parsed = json.loads(document) if isinstance(document, str) else document
        self._keys = _signing_keys(parsed, refused)
        if not self._keys:
            raise ValueError("the JWKS document holds no Ed25519 signature key")

    async def key_for(self, key_id: str) -> jwt.PyJWK | None:
        return self._keys.get(key_id)


class RemoteKeys:
    """The gateway's JWKS, cached for `ttl` seconds and fetched again early when a token
    names a key id not seen yet (key rotation), at most once per `min_refresh` seconds."""

    def __init__(
        self,
        url: str,
        *,
        ttl: float = 300.0,
        min_refresh: float = 10.0,
        timeout: float = 3.0,
        refused: frozenset[str] = frozenset(),
    ) -> None:
        self.url = url
        self.ttl = ttl
        self.min_refresh = min_refresh
        self.timeout = timeout
        self.refused = refused
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -float("inf")
        self._lock = asyncio.Lock()

    async def key_for(self, key_id: str) -> jwt.PyJWK | None:
        age = time.monotonic() - self._fetched_at
        if age > self.ttl or (key_id not in self._keys and age > self.min_refresh):
            await self._refresh()
        return self._keys.get(key_id)

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at <= self.min_refresh:
                return  # another request refreshed while we waited
            try:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    response = await client.get(self.url)
                    response.raise_for_status()
                    self._keys = _signing_keys(response.json(), self.refused)
                self._fetched_at = time.monotonic()
            except (httpx.HTTPError, ValueError) as exc:
                # Keys already known keep working while the gateway is away.
                log.warning("JWKS %s unavailable: %s", self.url, exc)
                if not self._keys:
                    raise KeysUnavailable(str(exc)) from exc
