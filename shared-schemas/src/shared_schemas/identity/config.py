"""How a process is told whom to trust: issuer, audience and where the public keys are."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from shared_schemas.identity.development import DEVELOPMENT_KEY_ID, DEVELOPMENT_PRIVATE_KEY_PEM
from shared_schemas.identity.keys import RemoteKeys, StaticKeys, refused_key_ids
from shared_schemas.identity.tokens import KeySource, Revocations, TokenSigner, TokenVerifier

DEFAULT_ISSUER = "crm-erp-gateway"
DEFAULT_AUDIENCE = "crm-erp-api"
# Clocks of gateway and services may differ a little; tokens live for minutes.
CLOCK_SKEW = timedelta(seconds=30)


class DevelopmentSecretInProduction(ValueError):
    """Production settings that would trust the published development key, or lack keys."""


@dataclass(frozen=True)
class IdentityConfig:
    issuer: str = DEFAULT_ISSUER
    audience: str = DEFAULT_AUDIENCE
    jwks_url: str | None = None
    jwks: str | None = None
    development: bool = True


def development_signer(
    issuer: str = DEFAULT_ISSUER, audience: str = DEFAULT_AUDIENCE
) -> TokenSigner:
    return TokenSigner(
        DEVELOPMENT_PRIVATE_KEY_PEM, DEVELOPMENT_KEY_ID, issuer=issuer, audience=audience
    )


def development_key_marks() -> frozenset[str]:
    """What names the published development key: its key id, and its public key for when
    it comes under another id. Production trusts no key carrying either."""
    return frozenset({DEVELOPMENT_KEY_ID, development_signer().public_jwk()["x"]})


def key_source(config: IdentityConfig) -> KeySource:
    """Inline JWKS first, then the JWKS URL; the development key only in development."""
    refused = frozenset() if config.development else development_key_marks()
    if config.jwks:
        return StaticKeys(config.jwks, refused)
    if config.jwks_url:
        return RemoteKeys(config.jwks_url, refused=refused)
    if config.development:
        return StaticKeys({"keys": [development_signer().public_jwk()]})
    raise DevelopmentSecretInProduction("production needs JWKS_URL or JWKS to verify tokens")


def verifier(config: IdentityConfig, revoked: Revocations | None = None) -> TokenVerifier:
    return TokenVerifier(
        key_source(config),
        issuer=config.issuer,
        audience=config.audience,
        leeway=CLOCK_SKEW,
        revoked=revoked,
    )


def assert_production_safe(config: IdentityConfig) -> None:
    """Refuse production settings that would trust the published development key."""
    if config.development:
        return
    if not (config.jwks or config.jwks_url):
        raise DevelopmentSecretInProduction(
            "production needs JWKS_URL or JWKS to verify tokens (the development key is refused)"
        )
    if config.jwks:
        document = json.loads(config.jwks)
        if refused_key_ids(document, development_key_marks()):
            raise DevelopmentSecretInProduction(
                "the development key is not allowed in production, under any key id"
            )
