"""The external OIDC issuer's public keys, fetched from its JWKS URL and cached.

Each key is pinned to one algorithm by its type: an RSA key verifies RS256 only, an
Ed25519 key EdDSA only; any other key (symmetric, EC, encryption keys) is ignored, so
`none`, HMAC and key-confusion tokens find no key to verify with.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from shared_schemas.identity import KeysUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PinnedKey:
    key: jwt.PyJWK
    algorithm: str


def _algorithm_of(entry: Mapping[str, Any]) -> str | None:
    if entry.get("kty") == "RSA":
        algorithm = "RS256"
    elif entry.get("kty") == "OKP" and entry.get("crv") == "Ed25519":
        algorithm = "EdDSA"
    else:
        return None
    if entry.get("alg", algorithm) != algorithm or entry.get("use", "sig") != "sig":
        return None
    return algorithm


def pinned_keys(document: Mapping[str, Any]) -> dict[str, PinnedKey]:
    """The usable signature keys of a JWKS document, by key id."""
    keys: dict[str, PinnedKey] = {}
    entries = document.get("keys", [])
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        algorithm = _algorithm_of(entry)
        if algorithm is None:
            continue
        try:
            keys[entry["kid"]] = PinnedKey(jwt.PyJWK(entry, algorithm=algorithm), algorithm)
        except jwt.PyJWTError as exc:
            log.warning("ignoring unusable external key %s: %s", entry["kid"], exc)
    return keys


class ExternalKeys:
    """Cached for `ttl` seconds, fetched again early for an unseen key id (rotation) at
    most every `min_refresh` seconds; known keys keep working while the issuer is away."""

    def __init__(
        self, url: str, *, ttl: float = 300.0, min_refresh: float = 10.0, timeout: float = 3.0
    ) -> None:
        self.url = url
        self.ttl = ttl
        self.min_refresh = min_refresh
        self.timeout = timeout
        self._keys: dict[str, PinnedKey] = {}
        self._fetched_at = -float("inf")
        self._lock = asyncio.Lock()

    async def key_for(self, key_id: str) -> PinnedKey | None:
        age = time.monotonic() - self._fetched_at
        if age > self.ttl or (key_id not in self._keys and age > self.min_refresh):
            await self._refresh()
        return self._keys.get(key_id)

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at <= self.min_refresh:
                return
            try:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    response = await client.get(self.url)
                    response.raise_for_status()
                    document = response.json()
                if not isinstance(document, dict):
                    raise ValueError("the JWKS is not a JSON object")
                self._keys = pinned_keys(document)
                self._fetched_at = time.monotonic()
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("external JWKS %s unavailable: %s", self.url, exc)
                if not self._keys:
                    raise KeysUnavailable(str(exc)) from exc
