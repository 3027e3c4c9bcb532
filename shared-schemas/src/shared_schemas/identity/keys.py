"""Where verification keys come from: a JWKS document given in settings, or the gateway's
`/.well-known/jwks.json`, fetched and cached."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shared_schemas.identity.tokens import ALGORITHM, KeysUnavailable

log = logging.getLogger(__name__)


def public_key_of(key: jwt.PyJWK) -> str:
    """An Ed25519 key's public half (base64url, unpadded), however its JWK spelt it."""
    value = key.key
    if isinstance(value, Ed25519PrivateKey):
        value = value.public_key()
    raw = value.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _signing_keys(document: Mapping[str, Any], refused: frozenset[str]) -> dict[str, jwt.PyJWK]:
    """The Ed25519 signature keys of a JWKS document, by key id; others are ignored, and
    so is a key `refused` names by its id or by its public key (`public_key_of`): the
    development key stays refused under any other id."""
    keys: dict[str, jwt.PyJWK] = {}
    for entry in _entries(document):
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
            key = jwt.PyJWK(entry, algorithm=ALGORITHM)
        except jwt.PyJWTError as exc:
            log.warning("ignoring unusable key %s: %s", kid, exc)
            continue
        if public_key_of(key) in refused:
            log.warning("ignoring key %s: a refused key under another id", kid)
            continue
        keys[kid] = key
    return keys


def _entries(document: Any) -> list[Any]:
    """The `keys` of a JWKS document; ValueError for anything else (a list, say)."""
    entries = document.get("keys", []) if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError("not a JWKS document (an object with a list of keys)")
    return entries


def refused_key_ids(document: Mapping[str, Any], refused: frozenset[str]) -> list[str]:
    """The key ids of a JWKS document that `refused` names, by id or by public key."""
    entries = [entry for entry in _entries(document) if isinstance(entry, dict)]
    named = {str(entry.get("kid")) for entry in entries if entry.get("kid") in refused}
    usable = _signing_keys(document, frozenset())
    return sorted(named | {kid for kid, key in usable.items() if public_key_of(key) in refused})


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
