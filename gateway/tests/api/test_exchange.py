"""`POST /auth/exchange`: an external OIDC issuer's token for the gateway's own pair, every
token it must refuse, and refusals counted against the address like failed sign-ins."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from shared_schemas.broker import free_port
from tests.support.gateway import Gateway
from tests.support.gateway_identity import (
    PASSWORD,
    ExternalIssuer,
    bearer,
    claims_of,
    create_user,
    gateway_of,
    hs256_keyed_with,
    refresh,
    serving_jwks,
    settings_for,
    sign_in,
    unsigned_token,
    without_instance,
)

pytestmark = [pytest.mark.api, pytest.mark.security]

EMPLOYEE = uuid.UUID("e0000000-0000-4000-8000-000000000001")


async def test_an_external_token_is_exchanged_for_the_gateways_own(database_url: str) -> None:
    idp = ExternalIssuer()
    async with serving_jwks(idp.jwks()) as url:
        settings = settings_for(
            database_url,
            oidc_issuer=idp.issuer,
            oidc_audience=idp.audience,
            oidc_jwks_url=url,
            # Every refusal below comes from one address; throttling has a test of its own.
            login_max_failures=50,
        )
        async with gateway_of(settings) as gateway:
            await create_user(gateway, "keeper", roles=["admin"])  # sam is not the last admin
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
                "not yet valid": idp.token("idp|sam", nbf=datetime.now(UTC) + timedelta(hours=1)),
                "unknown kid": jwt.encode(
                    {
                        "iss": idp.issuer,
                        "aud": idp.audience,
                        "sub": "idp|sam",
                        "iat": now,
                        "exp": now + 60,
                    },
                    idp.key,
                    algorithm="RS256",
                    headers={"kid": "idp-retired-long-ago"},
                ),
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
                # Signed by the issuer's key, with dates no token may carry.
                "exp past any date (10**20)": idp.token("idp|sam", exp=10**20),
                "exp 1e300": idp.token("idp|sam", exp=1e300),
                "exp Infinity": idp.token("idp|sam", exp=float("inf")),
                "exp a numeric string": idp.token("idp|sam", exp=str(now + 60)),
                "exp a list": idp.token("idp|sam", exp=[now + 60]),
                "iat true": idp.token("idp|sam", iat=True),
                "iat before the epoch": idp.token("idp|sam", iat=-(10**20)),
                "nbf true": idp.token("idp|sam", nbf=True),
                "nbf 1e300": idp.token("idp|sam", nbf=1e300),
                # Subjects no database can look up: no user's, not a database error.
                "a NUL in the subject": idp.token("idp|sam\x00"),
                "a lone surrogate in the subject": idp.token("idp|\ud800"),
                "a subject that is no string": idp.token(["idp|sam"]),  # type: ignore[arg-type]
            }
            answers = set()
            for reason, token in forged.items():
                refused = await exchange(token)
                assert refused.status_code == 401, reason
                answers.add(json.dumps(without_instance(refused.json()), sort_keys=True))
            assert len(answers) == 1

            disabled = await gateway.client.patch(
                f"/auth/users/{user['id']}",
                json={"disabled": True},
                headers=gateway.headers("admin"),
            )
            assert disabled.status_code == 200, disabled.text
            refused = await exchange(idp.token("idp|sam"))
            assert refused.status_code == 401
            assert json.dumps(without_instance(refused.json()), sort_keys=True) in answers


async def test_failed_exchanges_count_against_the_address_with_failed_sign_ins(
    database_url: str,
) -> None:
    idp = ExternalIssuer()
    async with serving_jwks(idp.jwks()) as url:
        settings = settings_for(
            database_url,
            oidc_issuer=idp.issuer,
            oidc_audience=idp.audience,
            oidc_jwks_url=url,
            login_max_failures=3,
        )
        async with gateway_of(settings, address="203.0.113.7") as gateway:
            await create_user(gateway, "tia", oidc_subject="idp|tia")
            await create_user(gateway, "ola")

            async def exchange_from(address: str, token: str) -> httpx.Response:
                async with gateway.client_from(address) as client:
                    return await client.post("/auth/exchange", data={"subject_token": token})

            good = idp.token("idp|tia")
            for refused in ("garbage", idp.token("idp|nobody"), ExternalIssuer().token("idp|tia")):
                assert (await exchange_from("203.0.113.7", refused)).status_code == 401

            # The address is throttled: even a good token waits, and no token is checked.
            throttled = await exchange_from("203.0.113.7", good)
            assert throttled.status_code == 429
            assert throttled.headers["content-type"] == "application/problem+json"
            assert 0 < int(throttled.headers["Retry-After"]) <= settings.login_window_seconds
            # One count with failed passwords: signing in from there waits too.
            assert (await sign_in(gateway.client, "ola", PASSWORD)).status_code == 429
            # Another address is not held back.
            assert (await exchange_from("198.51.100.9", good)).status_code == 200

            # And failed passwords hold back exchanges from their address.
            async with gateway.client_from("198.51.100.23") as guesser:
                for _ in range(3):
                    assert (await sign_in(guesser, "ola", "not the password")).status_code == 401
            assert (await exchange_from("198.51.100.23", good)).status_code == 429


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
