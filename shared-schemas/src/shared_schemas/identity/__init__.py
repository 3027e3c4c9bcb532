"""Identity: tokens issued by the gateway, verified by every process, into a principal."""

from shared_schemas.identity.config import (
    DEFAULT_AUDIENCE,
    DEFAULT_ISSUER,
    DevelopmentSecretInProduction,
    IdentityConfig,
    assert_production_safe,
    development_signer,
    key_source,
    verifier,
)
from shared_schemas.identity.dependencies import (
    BEARER_SCHEME,
    Access,
    Authorize,
    CurrentPrincipal,
    current_principal,
    unauthorized,
)
from shared_schemas.identity.keys import RemoteKeys, StaticKeys
from shared_schemas.identity.tokens import (
    ALGORITHM,
    InvalidToken,
    KeysUnavailable,
    Principal,
    TokenSigner,
    TokenVerifier,
)

__all__ = [
    "ALGORITHM",
    "BEARER_SCHEME",
    "DEFAULT_AUDIENCE",
    "DEFAULT_ISSUER",
    "Access",
    "Authorize",
    "CurrentPrincipal",
    "DevelopmentSecretInProduction",
    "IdentityConfig",
    "InvalidToken",
    "KeysUnavailable",
    "Principal",
    "RemoteKeys",
    "StaticKeys",
    "TokenSigner",
    "TokenVerifier",
    "assert_production_safe",
    "current_principal",
    "development_signer",
    "key_source",
    "unauthorized",
    "verifier",
]
