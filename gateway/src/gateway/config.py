"""The gateway's settings, read from `GATEWAY_*` environment variables (shared
infrastructure such as `KAFKA_BOOTSTRAP_SERVERS` has no prefix)."""

from dataclasses import replace
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from gateway.service.signing import (
    check_bootstrap_admin,
    check_external_issuer,
    refuse_development_signing_key,
    trusted_jwks,
)
from gateway.service.webhook_secrets import check_secret_keys
from shared_schemas.identity import IdentityConfig, assert_production_safe
from shared_schemas.service import ServiceSettings

SERVICE_NAME = "gateway"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///.data/gateway.db"
    port: int = 8000
    relay_metrics_port: int = 9301
    consumer_metrics_port: int = 9302

    # Upstreams and how the gateway talks to them.
    crm_url: str = "http://127.0.0.1:8001"
    erp_url: str = "http://127.0.0.1:8002"
    upstream_connect_timeout: float = Field(default=2.0, gt=0)
    upstream_read_timeout: float = Field(default=30.0, gt=0)
    upstream_pool_size: int = Field(default=100, ge=1)
    # The circuit breaker per upstream: open after this many failures in a row, probe
    # again (half-open) after the cool-down.
    breaker_failures: int = Field(default=5, ge=1)
    breaker_cooldown_seconds: float = Field(default=15.0, gt=0)

    # Tokens the gateway issues (design §7). Without a signing key in development the
    # development key signs; production refuses to start without its own.
    signing_key_pem: str | None = None
    signing_key_id: str | None = None
    # Public keys of retired signing keys, still served at /.well-known/jwks.json until
    # the tokens they signed have expired (a JWKS document as JSON).
    retired_jwks: str | None = None
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    refresh_token_ttl_seconds: int = Field(default=7 * 86_400, ge=300)
    # Failed sign-ins allowed per user and per IP within the window before 429.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    # The first administrator of a new deployment (production has no development users):
    # created at start when no user has this username; changing its password later through
    # /auth/users sticks, since an existing user is never touched.
    bootstrap_admin_username: str | None = Field(default=None, min_length=1, max_length=100)
    bootstrap_admin_password: SecretStr | None = None
    # An external OIDC issuer whose tokens are exchanged for the gateway's own.
    oidc_issuer: str | None = None
    oidc_jwks_url: str | None = None
    oidc_audience: str | None = None
    oidc_roles_claim: str = "roles"

    # Limits at the edge.
    # (max_body_bytes, from ServiceSettings, is checked here before a request is proxied.)
    cors_origins: list[str] = Field(default_factory=list)
    rate_limit_per_user: int = Field(default=600, ge=1, description="Requests per minute.")
    rate_limit_per_ip: int = Field(default=1_200, ge=1, description="Requests per minute.")
    # Shared rate limits across gateway replicas; in memory when unset.
    redis_url: str | None = None

    # The event history the live stream resumes from and webhooks replay from.
    event_history_days: int = Field(default=30, ge=1)
    # Live event streams one user may hold open at once in one gateway process (429 past).
    event_streams_per_user: int = Field(default=5, ge=1)
    # Webhook deliveries: retried with exponential backoff and jitter for this long.
    webhook_retry_hours: int = Field(default=25, ge=24)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Consecutive permanent failures (4xx but 408/429) that disable a subscription.
    webhook_disable_after: int = Field(default=10, ge=1)
    # Hosts webhook targets may resolve to even when private (tests: ["127.0.0.1"]).
    webhook_allowed_private_hosts: list[str] = Field(default_factory=list)
    # Fernet keys sealing webhook secrets at rest, as a JSON list: the first seals, all
    # open (a rotation puts the new key first). Development without keys uses the
    # published development key; production refuses to start without keys of its own.
    webhook_secret_keys: list[SecretStr] = Field(default_factory=list)

    # Replaces the services' check: the gateway trusts the key it signs with, so it needs
    # no JWKS setting, but production needs a signing key of its own (service/signing.py).
    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> Self:
        check_external_issuer(self)
        check_bootstrap_admin(self)
        check_secret_keys(
            [key.get_secret_value() for key in self.webhook_secret_keys], self.environment
        )
        if self.environment == "production":
            refuse_development_signing_key(self)
            assert_production_safe(self.identity())
        return self

    def identity(self) -> IdentityConfig:
        """Whom the gateway trusts: its own keys, current and retired, and `jwks`."""
        return replace(super().identity(), jwks=trusted_jwks(self))
