"""The gateway's signing keys: the one that signs now, the retired ones still published
until their tokens expire, and the key set the gateway itself trusts."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING, Any

from shared_schemas.identity import DevelopmentSecretInProduction, TokenSigner, development_signer
from shared_schemas.identity.development import DEVELOPMENT_KEY_ID

if TYPE_CHECKING:
    from gateway.config import Settings


# JWK members of private keys (RFC 7517/7518): never in a published key set.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def signer_for(settings: Settings) -> TokenSigner:
    """The signer of the gateway's tokens: its own key, or in development without one the
    development key (which every process in production refuses)."""
    if settings.signing_key_pem:
        pem = settings.signing_key_pem
        provisional = TokenSigner(
            pem, "", issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
        key_id = settings.signing_key_id or thumbprint(provisional.public_jwk())
        return TokenSigner(pem, key_id, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    if settings.environment == "production":
        raise DevelopmentSecretInProduction(
            "production needs GATEWAY_SIGNING_KEY_PEM (an Ed25519 private key) to sign tokens"
        )
    return development_signer(settings.jwt_issuer, settings.jwt_audience)


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint of an Ed25519 JWK: the key id when none is configured."""
    members = {name: jwk[name] for name in ("crv", "kty", "x")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).decode().rstrip("=")


def _keys_of(document: str | None, setting: str) -> list[dict[str, Any]]:
    if not document:
        return []
    try:
        parsed = json.loads(document)
    except ValueError as exc:
        raise ValueError(f"{setting} is not a JSON document") from exc
    keys = parsed.get("keys") if isinstance(parsed, dict) else None
    if not isinstance(keys, list):
        raise ValueError(f'{setting} must be a JWKS document: {{"keys": [...]}}')
    return [key for key in keys if isinstance(key, dict)]


def published_jwks(settings: Settings) -> dict[str, Any]:
    """What `/.well-known/jwks.json` serves: the current public key first, then the
    retired ones (tokens they signed verify until they expire)."""
    current = signer_for(settings).public_jwk()
    retired = [
        key
        for key in _keys_of(settings.retired_jwks, "retired_jwks")
        if key.get("kid") != current["kid"]
    ]
    for key in retired:
        if private := sorted(PRIVATE_MEMBERS.intersection(key)):
            raise ValueError(
                f"retired_jwks key {key.get('kid')!r} holds private members {private}: "
                "publish only the public key"
            )
    return {"keys": [current, *retired]}


def trusted_jwks(settings: Settings) -> str:
    """The keys the gateway accepts tokens of: its own (current and retired) and those of
    the `jwks` setting (test keys, another signer during a migration)."""
    keys = published_jwks(settings)["keys"]
    known = {key.get("kid") for key in keys}
    extra = [key for key in _keys_of(settings.jwks, "jwks") if key.get("kid") not in known]
    return json.dumps({"keys": [*keys, *extra]})


def refuse_development_signing_key(settings: Settings) -> None:
    """Production signs with a key of its own: not the published development key, under
    whatever key id, and never publishes or trusts the development key id."""
    signer = signer_for(settings)  # raises without a signing key
    development = development_signer().public_jwk()
    if signer.key_id == DEVELOPMENT_KEY_ID or signer.public_jwk()["x"] == development["x"]:
        raise DevelopmentSecretInProduction("the development signing key is refused in production")
    retired = _keys_of(settings.retired_jwks, "retired_jwks")
    if any(
        key.get("kid") == DEVELOPMENT_KEY_ID or key.get("x") == development["x"] for key in retired
    ):
        raise DevelopmentSecretInProduction("the development key may not be among retired_jwks")


def check_external_issuer(settings: Settings) -> None:
    """An external OIDC issuer is configured whole or not at all; in production its keys
    come over https."""
    parts = (settings.oidc_issuer, settings.oidc_jwks_url, settings.oidc_audience)
    if any(parts) and not all(parts):
        raise ValueError("oidc_issuer, oidc_jwks_url and oidc_audience go together")
    url = settings.oidc_jwks_url
    if settings.environment == "production" and url and not url.startswith("https://"):
        raise ValueError("oidc_jwks_url must be an https URL in production")


def check_bootstrap_admin(settings: Settings) -> None:
    """The first administrator comes with a password, a long one, and in production not one
    shaped like the published development passwords."""
    username, password = settings.bootstrap_admin_username, settings.bootstrap_admin_password
    if (username is None) != (password is None):
        raise ValueError("bootstrap_admin_username and bootstrap_admin_password go together")
    if password is None:
        return
    secret = password.get_secret_value()
    if len(secret) < 12:
        raise ValueError("bootstrap_admin_password needs at least 12 characters")
    if settings.environment == "production" and secret.startswith("dev-"):
        raise ValueError("bootstrap_admin_password looks like a development password")
