"""Signing in at the gateway: token pairs with the design's claims, refresh tokens used
once, one answer for every bad sign-in, throttling, the published keys and their rotation,
the development users, production's refusals, terminated employees, external issuers."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from pydantic import ValidationError

from gateway.config import Settings
from shared_schemas.broker import free_port
from shared_schemas.events.base import new_event
from shared_schemas.events.erp.employees import EmployeeTerminated
from shared_schemas.identity import DevelopmentSecretInProduction, development_signer
from shared_schemas.identity.development import (
    DEVELOPMENT_EMPLOYEE_IDS,
    DEVELOPMENT_KEY_ID,
    DEVELOPMENT_PRIVATE_KEY_PEM,
)
from shared_schemas.messaging import Outcome
from shared_schemas.roles import Role
from tests.support.gateway import Gateway
from tests.support.gateway_identity import (
    PASSWORD,
    ExternalIssuer,
    GatewayApp,
    bearer,
    claims_of,
    create_user,
    gateway_of,
    hs256_keyed_with,
    new_pem,
    refresh,
    run_lifespan,
    serving_jwks,
    settings_for,
    sign_in,
    token_pair,
    unsigned_token,
)
from tests.support.identity import ProtectedSettings, app_client
from tests.support.kafka_tools import until

pytestmark = [pytest.mark.api, pytest.mark.security]

EMPLOYEE = uuid.UUID("e0000000-0000-4000-8000-000000000001")


def without_instance(body: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if name != "instance"}


# --- token pairs -----------------------------------------------------------------------


async def test_a_sign_in_issues_a_pair_with_the_designs_claims(gateway: Gateway) -> None:
    user = await create_user(gateway, "alice", roles=["admin", "sales"], employee_id=str(EMPLOYEE))
    response = await sign_in(gateway.client, "alice", PASSWORD)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    pair = response.json()
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == gateway.settings.access_token_ttl_seconds
    assert pair["refresh_expires_in"] == gateway.settings.refresh_token_ttl_seconds

    # The tokens verify with the key the gateway publishes, and only as EdDSA.
    jwks = (await gateway.client.get("/.well-known/jwks.json")).json()
    key_id = jwt.get_unverified_header(pair["access_token"])["kid"]
    assert jwt.get_unverified_header(pair["access_token"])["alg"] == "EdDSA"
    [published] = [key for key in jwks["keys"] if key["kid"] == key_id]
    public = jwt.PyJWK(published, algorithm="EdDSA").key
    access = jwt.decode(pair["access_token"], public, algorithms=["EdDSA"], audience="crm-erp-api")
    assert access["iss"] == "crm-erp-gateway"
    assert access["sub"] == user["id"]
    assert access["typ"] == "access"
    assert access["roles"] == ["admin", "sales"]
    assert access["employee_id"] == str(EMPLOYEE)
    assert access["exp"] - access["iat"] == gateway.settings.access_token_ttl_seconds
    assert access["nbf"] == access["iat"]
    assert uuid.UUID(access["jti"])
    refresh_claims = jwt.decode(
        pair["refresh_token"], public, algorithms=["EdDSA"], audience="crm-erp-api"
    )
    assert refresh_claims["typ"] == "refresh"
    assert refresh_claims["sub"] == user["id"]
    assert refresh_claims["jti"] != access["jti"]
    assert refresh_claims["exp"] - refresh_claims["iat"] == 7 * 86_400

    # The access token opens the gateway's routes; the refresh token never does.
    assert (
        await gateway.client.get("/auth/users", headers=bearer(pair["access_token"]))
    ).is_success
    as_access = await gateway.client.get("/auth/users", headers=bearer(pair["refresh_token"]))
    assert as_access.status_code == 401


async def test_a_refresh_token_is_used_once_and_reuse_ends_every_session(
    gateway: Gateway,
) -> None:
    await create_user(gateway, "bob", roles=["admin"])
    first = await token_pair(gateway.client, "bob", PASSWORD)
    renewed = await refresh(gateway.client, first["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    assert renewed.headers["Cache-Control"] == "no-store"
    second = renewed.json()
    assert claims_of(second["access_token"])["sub"] == claims_of(first["access_token"])["sub"]
    assert (
        await gateway.client.get("/auth/users", headers=bearer(second["access_token"]))
    ).is_success

    # The spent token again: stolen or leaked, so the sessions it led to end too.
    replayed = await refresh(gateway.client, first["refresh_token"])
    assert replayed.status_code == 401
    assert replayed.headers["content-type"] == "application/problem+json"
    assert replayed.json()["error"] == "invalid_grant"
    assert (await refresh(gateway.client, second["refresh_token"])).status_code == 401
    # An access token is no refresh token, and garbage is none either.
    assert (await refresh(gateway.client, second["access_token"])).status_code == 401
    assert (await refresh(gateway.client, "not.a.token")).status_code == 401
    # Signing in again starts a new session.
    assert (await sign_in(gateway.client, "bob", PASSWORD)).status_code == 200


async def test_every_refused_sign_in_is_the_same_answer_at_the_same_cost(
    database_url: str,
) -> None:
    # Throttling kept out of the way: every attempt here reaches the password check.
    async with gateway_of(settings_for(database_url, login_max_failures=100)) as gateway:
        user = await create_user(gateway, "carol")
        await create_user(gateway, "dave")
        await gateway.client.patch(
            f"/auth/users/{user['id']}", json={"disabled": True}, headers=gateway.headers("admin")
        )
        attempts = {
            "unknown user": ("nobody", PASSWORD),
            "wrong password": ("dave", "not the password"),
            "disabled user": ("carol", PASSWORD),
        }
        answers = {}
        for reason, (username, password) in attempts.items():
            response = await sign_in(gateway.client, username, password)
            assert response.status_code == 401, reason
            assert response.headers["content-type"] == "application/problem+json"
            answers[reason] = (
                without_instance(response.json()),
                response.headers.get("www-authenticate"),
            )
        assert len({json.dumps(answer, sort_keys=True) for answer in answers.values()}) == 1
        assert answers["unknown user"][0]["detail"] == "The username or password is not correct."

        async def median_seconds(username: str) -> float:
            durations = []
            for _ in range(5):
                started = time.perf_counter()
                response = await sign_in(gateway.client, username, "still not the password")
                durations.append(time.perf_counter() - started)
                assert response.status_code == 401
            return statistics.median(durations)

        unknown, wrong = await median_seconds("nobody"), await median_seconds("dave")
        # An unknown username is checked against a dummy hash: no shortcut to measure.
        assert 0.5 < unknown / wrong < 2, (unknown, wrong)


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"grant_type": "client_credentials"}, 422),
        ({"grant_type": "password", "username": "x"}, 422),
        ({"grant_type": "password", "password": "x"}, 422),
        ({"grant_type": "refresh_token"}, 422),
        ({"username": "x", "password": "y"}, 422),
    ],
)
async def test_token_requests_are_validated(
    gateway: Gateway, form: dict[str, str], status: int
) -> None:
    response = await gateway.client.post("/auth/token", data=form)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_token_endpoint_takes_a_form_only(gateway: Gateway) -> None:
    as_json = await gateway.client.post(
        "/auth/token", json={"grant_type": "password", "username": "a", "password": "b"}
    )
    assert as_json.status_code == 415
    twice = await gateway.client.post(
        "/auth/token",
        content=b"grant_type=password&username=a&username=b&password=c",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 422
    huge = await gateway.client.post(
        "/auth/token",
        content=b"grant_type=password&password=" + b"x" * 20_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413


# --- throttling ------------------------------------------------------------------------


async def test_failed_sign_ins_of_a_username_are_throttled_from_any_address(
    database_url: str,
) -> None:
    settings = settings_for(database_url, login_max_failures=3, login_window_seconds=2)
    async with gateway_of(settings) as gateway:
        await create_user(gateway, "grace")
        for number in range(3):
            async with gateway.client_from(f"10.0.0.{number + 1}") as elsewhere:
                assert (await sign_in(elsewhere, "grace", "wrong")).status_code == 401
        async with gateway.client_from("10.0.0.9") as fresh:
            # Even the right password waits, whichever address it comes from.
            throttled = await sign_in(fresh, "grace", PASSWORD)
            assert throttled.status_code == 429, throttled.text
            assert throttled.headers["content-type"] == "application/problem+json"
            assert 1 <= int(throttled.headers["Retry-After"]) <= 2
            assert throttled.json()["status"] == 429
            # Once the window has passed, the right password works again.
            started = time.monotonic()
            await until(
                lambda: sign_in(fresh, "grace", PASSWORD),
                lambda response: response.status_code == 200,
                "the window to pass",
            )
            assert time.monotonic() - started < 5


async def test_failed_sign_ins_from_an_address_are_throttled_whatever_the_username(
    database_url: str,
) -> None:
    settings = settings_for(database_url, login_max_failures=3, login_window_seconds=60)
    async with gateway_of(settings, address="192.0.2.7") as gateway:
        await create_user(gateway, "heidi")
        for username in ("ivan", "judy", "mallory"):
            assert (await sign_in(gateway.client, username, "guess")).status_code == 401
        throttled = await sign_in(gateway.client, "heidi", PASSWORD)
        assert throttled.status_code == 429
        assert 50 <= int(throttled.headers["Retry-After"]) <= 60
        async with gateway.client_from("192.0.2.8") as other:
            assert (await sign_in(other, "heidi", PASSWORD)).status_code == 200


async def test_a_successful_sign_in_clears_the_usernames_failures(database_url: str) -> None:
    settings = settings_for(database_url, login_max_failures=3, login_window_seconds=60)
    async with gateway_of(settings) as gateway:
        await create_user(gateway, "olivia")
        for round_number in range(3):
            # Each round from its own address: only the username's count is at stake.
            async with gateway.client_from(f"198.51.100.{round_number}") as client:
                for _ in range(2):
                    assert (await sign_in(client, "olivia", "wrong")).status_code == 401
                assert (await sign_in(client, "olivia", PASSWORD)).status_code == 200


# --- keys ------------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"signing_key_pem": DEVELOPMENT_PRIVATE_KEY_PEM},
        {"signing_key_pem": DEVELOPMENT_PRIVATE_KEY_PEM, "signing_key_id": "innocent-looking"},
        {"signing_key_pem": "own", "signing_key_id": DEVELOPMENT_KEY_ID},
        {"signing_key_pem": "own", "retired_jwks": "development"},
        {"signing_key_pem": "own", "oidc_issuer": "https://idp.example.test"},
        {
            "signing_key_pem": "own",
            "oidc_issuer": "https://idp.example.test",
            "oidc_audience": "crm-erp",
            "oidc_jwks_url": "http://idp.example.test/jwks.json",
        },
    ],
    ids=[
        "no-signing-key",
        "development-key",
        "development-key-renamed",
        "development-key-id",
        "development-key-retired",
        "half-an-oidc-issuer",
        "oidc-keys-over-http",
    ],
)
def test_production_refuses_development_keys(settings: dict[str, str]) -> None:
    values = dict(settings)
    if values.get("signing_key_pem") == "own":
        values["signing_key_pem"] = new_pem()
    if values.get("retired_jwks") == "development":
        values["retired_jwks"] = json.dumps({"keys": [development_signer().public_jwk()]})
    with pytest.raises(ValidationError):
        Settings(database_url="sqlite+aiosqlite:///:memory:", environment="production", **values)


def test_production_needs_only_a_signing_key_of_its_own() -> None:
    settings = Settings(
        database_url="sqlite+aiosqlite:///:memory:",
        environment="production",
        signing_key_pem=new_pem(),
        signing_key_id="gw-2026-11",
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
    production = settings_for(
        database_url, environment="production", signing_key_pem=new_pem(), signing_key_id="prod-1"
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
        assert len(listed.json()["items"]) == len(users)


# --- terminated employees ---------------------------------------------------------------


async def test_a_terminated_employees_users_are_disabled_and_their_tokens_refused(
    database_url: str,
) -> None:
    async with gateway_of(settings_for(database_url)) as gateway:
        await _terminate_and_check(gateway)


async def _terminate_and_check(gateway: GatewayApp) -> None:
    leaver = await create_user(gateway, "leaver", roles=["admin"], employee_id=str(EMPLOYEE))
    second = await create_user(gateway, "leaver.alt", roles=["sales"], employee_id=str(EMPLOYEE))
    stayer = await create_user(gateway, "stayer", roles=["admin"])
    pairs = {
        name: await token_pair(gateway.client, name, PASSWORD)
        for name in ("leaver", "leaver.alt", "stayer")
    }
    applier = gateway.app.state.workers.applier()
    terminated = EmployeeTerminated(
        version=3,
        employee_id=EMPLOYEE,
        name="Lee Ver",
        email="lee.ver@example.com",
        department_id=None,
        manager_id=None,
        title=None,
        role=Role.SALES,
        hired_on=date(2024, 1, 1),
        terminated_on=date(2026, 11, 30),
    )
    event = new_event(terminated, source="erp-service", actor="hr-user")
    parsed = applier.parse(event.model_dump_json().encode())
    assert parsed is not None, "the gateway consumes erp.employee.terminated.v1"
    assert await applier.apply(*parsed) == Outcome.APPLIED
    assert await applier.apply(*parsed) == Outcome.DUPLICATE

    admin = gateway.headers("admin")
    for user in (leaver, second):
        shown = (await gateway.client.get(f"/auth/users/{user['id']}", headers=admin)).json()
        assert shown["disabled"] is True
        assert "terminated" in shown["disabled_reason"]
    assert (await gateway.client.get(f"/auth/users/{stayer['id']}", headers=admin)).json()[
        "disabled"
    ] is False
    # Refresh tokens stop at once; access tokens as soon as the gateway rereads who is
    # disabled (a change made by the consumer process: within a second).
    assert (await refresh(gateway.client, pairs["leaver"]["refresh_token"])).status_code == 401
    assert (await refresh(gateway.client, pairs["leaver.alt"]["refresh_token"])).status_code == 401
    started = time.monotonic()
    await until(
        lambda: gateway.client.get("/auth/users", headers=bearer(pairs["leaver"]["access_token"])),
        lambda response: response.status_code == 401,
        "the leaver's access token to be refused",
    )
    assert time.monotonic() - started < 3
    assert (await sign_in(gateway.client, "leaver", PASSWORD)).status_code == 401
    still = await gateway.client.get("/auth/users", headers=bearer(pairs["stayer"]["access_token"]))
    assert still.status_code == 200
    assert (await refresh(gateway.client, pairs["stayer"]["refresh_token"])).status_code == 200


# --- external issuer --------------------------------------------------------------------


async def test_an_external_token_is_exchanged_for_the_gateways_own(database_url: str) -> None:
    idp = ExternalIssuer()
    async with serving_jwks(idp.jwks()) as url:
        settings = settings_for(
            database_url,
            oidc_issuer=idp.issuer,
            oidc_audience=idp.audience,
            oidc_jwks_url=url,
        )
        async with gateway_of(settings) as gateway:
            user = await create_user(
                gateway,
                "sam",
                roles=["admin", "sales"],
                employee_id=str(EMPLOYEE),
                oidc_subject="idp|sam",
            )

            async def exchange(token: str) -> Any:
                return await gateway.client.post("/auth/exchange", data={"subject_token": token})

            response = await exchange(idp.token("idp|sam"))
            assert response.status_code == 200, response.text
            pair = response.json()
            assert pair["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
            claims = claims_of(pair["access_token"])
            assert claims["sub"] == user["id"]
            assert claims["iss"] == "crm-erp-gateway"
            assert claims["roles"] == ["admin", "sales"]
            assert claims["employee_id"] == str(EMPLOYEE)
            assert (
                await gateway.client.get("/auth/users", headers=bearer(pair["access_token"]))
            ).is_success

            # The external issuer may narrow the roles, never widen them; refreshes keep it.
            narrowed = (await exchange(idp.token("idp|sam", roles=["sales", "hr"]))).json()
            assert claims_of(narrowed["access_token"])["roles"] == ["sales"]
            renewed = (await refresh(gateway.client, narrowed["refresh_token"])).json()
            assert claims_of(renewed["access_token"])["roles"] == ["sales"]

            now = int(time.time())
            forged = {
                "unknown subject": idp.token("idp|nobody"),
                "wrong audience": ExternalIssuer(idp.issuer, "another-app").token("idp|sam"),
                "wrong issuer": jwt.encode(
                    {
                        "iss": "https://evil.test",
                        "aud": idp.audience,
                        "sub": "idp|sam",
                        "iat": now,
                        "exp": now + 60,
                    },
                    idp.key,
                    algorithm="RS256",
                    headers={"kid": idp.key_id},
                ),
                "expired": idp.token("idp|sam", lifetime=timedelta(minutes=-5)),
                "another key": jwt.encode(
                    {
                        "iss": idp.issuer,
                        "aud": idp.audience,
                        "sub": "idp|sam",
                        "iat": now,
                        "exp": now + 60,
                    },
                    ExternalIssuer().key,
                    algorithm="RS256",
                    headers={"kid": idp.key_id},
                ),
                "alg none": unsigned_token(
                    {"alg": "none", "kid": idp.key_id},
                    {
                        "iss": idp.issuer,
                        "aud": idp.audience,
                        "sub": "idp|sam",
                        "iat": now,
                        "exp": now + 60,
                    },
                ),
                "HS256 keyed with the public key": hs256_keyed_with(
                    idp.public_pem(),
                    idp.key_id,
                    {"iss": idp.issuer, "aud": idp.audience, "sub": "idp|sam", "exp": now + 60},
                ),
                "garbage": "garbage",
            }
            answers = set()
            for reason, token in forged.items():
                refused = await exchange(token)
                assert refused.status_code == 401, reason
                answers.add(json.dumps(without_instance(refused.json()), sort_keys=True))
            assert len(answers) == 1

            await gateway.client.patch(
                f"/auth/users/{user['id']}",
                json={"disabled": True},
                headers=gateway.headers("admin"),
            )
            assert (await exchange(idp.token("idp|sam"))).status_code == 401


async def test_without_an_external_issuer_there_is_no_exchange(gateway: Gateway) -> None:
    response = await gateway.client.post("/auth/exchange", data={"subject_token": "x"})
    assert response.status_code == 404


async def test_an_unreachable_external_issuer_is_a_503(database_url: str) -> None:
    idp = ExternalIssuer()
    settings = settings_for(
        database_url,
        oidc_issuer=idp.issuer,
        oidc_audience=idp.audience,
        oidc_jwks_url=f"http://127.0.0.1:{free_port()}/jwks.json",
    )
    async with gateway_of(settings) as gateway:
        await create_user(gateway, "una", oidc_subject="idp|una")
        response = await gateway.client.post(
            "/auth/exchange", data={"subject_token": idp.token("idp|una")}
        )
        assert response.status_code == 503
        assert response.headers["Retry-After"]
        assert response.headers["content-type"] == "application/problem+json"
