"""Webhook signing secrets at rest: sealed with Fernet (AES-128-CBC and HMAC-SHA256) under
the gateway's secret keys, so a copy of the database or a backup does not give away the
keys subscribers verify signatures with.

The first key seals and every key opens: a rotation puts the new key first and keeps the
old one until the periodic reseal has moved every secret to the new key. In development
without keys the published development key seals; production refuses to start without
keys of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from shared_schemas.identity import DevelopmentSecretInProduction

if TYPE_CHECKING:
    from gateway.config import Settings

# Known to everyone: it keeps development free of setup and is refused in production.
DEVELOPMENT_SECRET_KEY = "ZGV2ZWxvcG1lbnQtd2ViaG9vay1zZWNyZXRzLWtleSE="  # noqa: S105


class UnreadableSecret(Exception):
    """A sealed secret none of the configured keys opens: the key that sealed it was
    removed from the settings before the secrets were resealed."""


class SecretBox:
    """Seals and opens webhook secrets under an ordered list of Fernet keys."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one secret key is needed")
        self._current = Fernet(keys[0])
        self._all = MultiFernet([Fernet(key) for key in keys])

    def seal(self, secret: str) -> str:
        return self._current.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._all.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise UnreadableSecret("no configured secret key opens this secret") from exc

    def is_current(self, sealed: str) -> bool:
        """Whether the first key sealed it (nothing to reseal)."""
        try:
            self._current.decrypt(sealed.encode())
        except InvalidToken:
            return False
        return True

    def reseal(self, sealed: str) -> str:
        """The same secret sealed under the first key."""
        try:
            return self._all.rotate(sealed.encode()).decode()
        except InvalidToken as exc:
            raise UnreadableSecret("no configured secret key opens this secret") from exc


def check_secret_keys(keys: Sequence[str], environment: str) -> None:
    """Every key is a Fernet key (32 url-safe base64 bytes); production has keys of its own
    and never the development key."""
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError as exc:
            raise ValueError(
                f"key {position} of webhook_secret_keys is not a Fernet key (32 url-safe "
                "base64-encoded bytes)"
            ) from exc
    if environment != "production":
        return
    if not keys:
        raise DevelopmentSecretInProduction(
            "production needs GATEWAY_WEBHOOK_SECRET_KEYS to seal webhook secrets"
        )
    if DEVELOPMENT_SECRET_KEY in keys:
        raise DevelopmentSecretInProduction(
            "the development webhook secret key is refused in production"
        )


def secret_box_for(settings: Settings) -> SecretBox:
    keys = [key.get_secret_value() for key in settings.webhook_secret_keys]
    return SecretBox(keys or [DEVELOPMENT_SECRET_KEY])
