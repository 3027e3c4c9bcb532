"""The gateway's keys and what it does at start: published keys and their rotation,
the development users, production's refusals."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import jwt
import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from gateway.config import Settings
from gateway.main import create_app
from gateway.service.webhook_secrets import DEVELOPMENT_SECRET_KEY
from shared_schemas.identity import DevelopmentSecretInProduction, development_signer
from shared_schemas.identity.development import (
    DEVELOPMENT_EMPLOYEE_IDS,
    DEVELOPMENT_KEY_ID,
    DEVELOPMENT_PRIVATE_KEY_PEM,
)
from shared_schemas.roles import Role
from tests.support.gateway import Gateway
from tests.support.gateway_identity import (
    PASSWORD,
    bearer,
    claims_of,
    create_user,
    gateway_of,
    new_pem,
    refresh,
    run_lifespan,
    settings_for,
    token_pair,
)
from tests.support.identity import ProtectedSettings, app_client

pytestmark = [pytest.mark.api, pytest.mark.security]

# Production seals webhook secrets under keys of its own.
SECRET_KEYS = [Fernet.generate_key().decode()]


async def test_the_public_keys_are_published_without_a_token(gateway: Gateway) -> None:
    response = await gateway.client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    [key] = response.json()["keys"]
    # In development without a key of its own the gateway signs with the development key.
    assert key["kid"] == DEVELOPMENT_KEY_ID
    assert {key["kty"], key["crv"], key["alg"], key["use"]} == {"OKP", "Ed25519", "EdDSA", "sig"}
    assert "d" not in key


async def test_tokens_of_a_retired_key_verify_until_they_expire(
    database_url: str, tmp_path: Path
) -> None:
    old_settings = settings_for(database_url, signing_key_pem=new_pem(), signing_key_id="gw-1")
    async with gateway_of(old_settings) as old:
        await create_user(old, "rita", roles=["admin"])
        before = await token_pair(old.client, "rita", PASSWORD)
        [old_key] = (await old.client.get("/.well-known/jwks.json")).json()["keys"]
    assert jwt.get_unverified_header(before["access_token"])["kid"] == "gw-1"

    new_settings = settings_for(
        database_url,
        signing_key_pem=new_pem(),
        signing_key_id="gw-2",
        retired_jwks=json.dumps({"keys": [old_key]}),
    )
    async with gateway_of(new_settings) as new:
        jwks = (await new.client.get("/.well-known/jwks.json")).json()
        assert [key["kid"] for key in jwks["keys"]] == ["gw-2", "gw-1"]
        # Issued before the rotation: still good at the gateway, and refreshable.
        old_access = bearer(before["access_token"])
        assert (await new.client.get("/auth/users", headers=old_access)).is_success
        after = (await refresh(new.client, before["refresh_token"])).json()
        assert jwt.get_unverified_header(after["access_token"])["kid"] == "gw-2"

    # A service configured with the published key set takes both.
    service = ProtectedSettings(jwks=json.dumps(jwks))
    async with await app_client(service, tmp_path) as client:
        for token in (before["access_token"], after["access_token"]):
            whoami = await client.get("/whoami", headers=bearer(token))
            assert whoami.status_code == 200, whoami.text
            assert whoami.json()["roles"] == ["admin"]

    # Once the old key is dropped from the set, its tokens are refused.
    dropped = settings_for(database_url, signing_key_pem=new_settings.signing_key_pem)
    async with gateway_of(dropped) as newest:
        refused = await newest.client.get("/auth/users", headers=bearer(before["access_token"]))
        assert refused.status_code == 401


def test_a_retired_key_pasted_with_its_private_half_is_refused_not_published() -> None:
    retired = {**development_signer().public_jwk(), "kid": "gw-0", "d": "cHJpdmF0ZQ"}
    settings = Settings(
        database_url="sqlite+aiosqlite:///:memory:",
        signing_key_pem=new_pem(),
        retired_jwks=json.dumps({"keys": [retired]}),
    )
    with pytest.raises(ValueError, match=r"'gw-0' holds private members \['d'\]"):
        create_app(settings)


async def test_a_missing_key_id_is_the_keys_thumbprint() -> None:
    settings = Settings(database_url="sqlite+aiosqlite:///:memory:", signing_key_pem=new_pem())
    [key] = json.loads(settings.identity().jwks or "{}")["keys"]
    assert len(key["kid"]) == 43  # base64url of a SHA-256


# --- development users and production ---------------------------------------------------


async def test_development_users_are_seeded_once_by_any_number_of_replicas(
    database_url: str,
) -> None:
    settings = settings_for(database_url)
    async with gateway_of(settings) as first, gateway_of(settings) as second:
        await asyncio.gather(run_lifespan(first.app), run_lifespan(second.app))
        await run_lifespan(first.app)
        listed = await first.client.get(
            "/auth/users", params={"sort": "username"}, headers=first.headers("admin")
        )
        users = listed.json()["items"]
        assert sorted(user["username"] for user in users) == sorted(role.value for role in Role)
        for user in users:
            assert user["roles"] == [user["username"]]
            assert user["employee_id"] == DEVELOPMENT_EMPLOYEE_IDS[user["username"]]
        pair = await token_pair(first.client, "sales", "dev-sales")
        claims = claims_of(pair["access_token"])
        assert claims["roles"] == ["sales"]
        assert claims["employee_id"] == DEVELOPMENT_EMPLOYEE_IDS["sales"]
        assert jwt.get_unverified_header(pair["access_token"])["kid"] == DEVELOPMENT_KEY_ID


# Each setting with the reason production gives for refusing it (so that a case cannot
# pass on some other setting's refusal).
REFUSED_IN_PRODUCTION: dict[str, tuple[dict[str, object], str]] = {
    "no-signing-key": ({}, "production needs GATEWAY_SIGNING_KEY_PEM"),
    "development-key": (
        {"signing_key_pem": DEVELOPMENT_PRIVATE_KEY_PEM},
        "the development signing key is refused in production",
    ),
    "development-key-renamed": (
        {"signing_key_pem": DEVELOPMENT_PRIVATE_KEY_PEM, "signing_key_id": "innocent-looking"},
        "the development signing key is refused in production",
    ),
    "development-key-id": (
        {"signing_key_pem": "own", "signing_key_id": DEVELOPMENT_KEY_ID},
        "the development signing key is refused in production",
    ),
    "development-key-retired": (
        {"signing_key_pem": "own", "retired_jwks": "development"},
        "the development key may not be among retired_jwks",
    ),
    "development-key-trusted-under-another-id": (
        {"signing_key_pem": "own", "jwks": "development renamed"},
        "the development key is not allowed in production, under any key id",
    ),
    "half-an-oidc-issuer": (
        {"signing_key_pem": "own", "oidc_issuer": "https://idp.example.test"},
        "oidc_issuer, oidc_jwks_url and oidc_audience go together",
    ),
    "oidc-keys-over-http": (
        {
            "signing_key_pem": "own",
            "oidc_issuer": "https://idp.example.test",
            "oidc_audience": "crm-erp",
            "oidc_jwks_url": "http://idp.example.test/jwks.json",
        },
        "oidc_jwks_url must be an https URL in production",
    ),
    "no-webhook-secret-key": (
        {"signing_key_pem": "own", "webhook_secret_keys": []},
        "production needs GATEWAY_WEBHOOK_SECRET_KEYS",
    ),
    "development-webhook-secret-key": (
        {"signing_key_pem": "own", "webhook_secret_keys": [*SECRET_KEYS, DEVELOPMENT_SECRET_KEY]},
        "the development webhook secret key is refused in production",
    ),
    "malformed-webhook-secret-key": (
        {"signing_key_pem": "own", "webhook_secret_keys": ["not a Fernet key"]},
        "key 1 of webhook_secret_keys is not a Fernet key",
    ),
}


@pytest.mark.parametrize("case", REFUSED_IN_PRODUCTION)
def test_production_refuses_development_keys(case: str) -> None:
    settings, reason = REFUSED_IN_PRODUCTION[case]
    values = {"webhook_secret_keys": SECRET_KEYS, **settings}
    if values.get("signing_key_pem") == "own":
        values["signing_key_pem"] = new_pem()
    if values.get("retired_jwks") == "development":
        values["retired_jwks"] = json.dumps({"keys": [development_signer().public_jwk()]})
    if values.get("jwks") == "development renamed":
        renamed = {**development_signer().public_jwk(), "kid": "innocent-looking"}
        values["jwks"] = json.dumps({"keys": [renamed]})
    with pytest.raises(ValidationError, match=re.escape(reason)):
        Settings(database_url="sqlite+aiosqlite:///:memory:", environment="production", **values)


def test_production_needs_a_signing_key_and_webhook_secret_keys_of_its_own() -> None:
    settings = Settings(
        database_url="sqlite+aiosqlite:///:memory:",
        environment="production",
        signing_key_pem=new_pem(),
        signing_key_id="gw-2026-11",
        webhook_secret_keys=SECRET_KEYS,
    )
    jwks = json.loads(settings.identity().jwks or "{}")
    assert [key["kid"] for key in jwks["keys"]] == ["gw-2026-11"]


async def test_production_refuses_to_start_while_a_development_password_works(
    database_url: str,
) -> None:
    async with gateway_of(settings_for(database_url)) as development:
        await run_lifespan(development.app)
        listed = await development.client.get("/auth/users", headers=development.headers("admin"))
        users = listed.json()["items"]
        # An administrator of its own, so that the development one is not the last.
        await create_user(development, "ops.admin", roles=["admin"])
    production = settings_for(
        database_url,
        environment="production",
        signing_key_pem=new_pem(),
        signing_key_id="prod-1",
        webhook_secret_keys=SECRET_KEYS,
    )
    async with gateway_of(production) as gateway:
        with pytest.raises(DevelopmentSecretInProduction):
            await run_lifespan(gateway.app)
        # Nothing is seeded in production; disabled, the development users are harmless.
        for user in users:
            response = await gateway.client.patch(
                f"/auth/users/{user['id']}",
                json={"disabled": True},
                headers=gateway.headers("admin"),
            )
            assert response.status_code == 200, response.text
        await run_lifespan(gateway.app)
        listed = await gateway.client.get("/auth/users", headers=gateway.headers("admin"))
        assert len(listed.json()["items"]) == len(users) + 1


async def test_production_starts_with_a_bootstrap_administrator_created_once(
    database_url: str,
) -> None:
    first_password = "correct horse battery staple"
    key = new_pem()

    def production(password: str) -> Settings:
        return settings_for(
            database_url,
            environment="production",
            signing_key_pem=key,
            signing_key_id="prod-1",
            webhook_secret_keys=SECRET_KEYS,
            bootstrap_admin_username="root-admin",
            bootstrap_admin_password=password,
        )

    async with gateway_of(production(first_password)) as gateway:
        await asyncio.gather(run_lifespan(gateway.app), run_lifespan(gateway.app))
        pair = await token_pair(gateway.client, "root-admin", first_password)
        assert claims_of(pair["access_token"])["roles"] == ["admin"]
        listed = await gateway.client.get(
            "/auth/users", headers={"Authorization": f"Bearer {pair['access_token']}"}
        )
        assert [user["username"] for user in listed.json()["items"]] == ["root-admin"]
    # A later start with another configured password leaves the existing user alone.
    async with gateway_of(production("another long password")) as gateway:
        await run_lifespan(gateway.app)
        assert (await token_pair(gateway.client, "root-admin", first_password))["access_token"]


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"bootstrap_admin_username": "root-admin"}, "go together"),
        ({"bootstrap_admin_password": "long enough password"}, "go together"),
        (
            {"bootstrap_admin_username": "root-admin", "bootstrap_admin_password": "short"},
            "needs at least 12 characters",
        ),
        (
            {
                "bootstrap_admin_username": "admin",
                "bootstrap_admin_password": "dev-admin-but-longer",
            },
            "looks like a development password",
        ),
    ],
    ids=["no-password", "no-username", "short-password", "development-password"],
)
def test_production_refuses_an_incomplete_or_weak_bootstrap_administrator(
    values: dict[str, str], reason: str
) -> None:
    with pytest.raises(ValidationError, match=reason):
        Settings(
            database_url="sqlite+aiosqlite:///:memory:",
            environment="production",
            signing_key_pem=new_pem(),
            webhook_secret_keys=SECRET_KEYS,
            **values,
        )
