"""Signing in at the gateway: token pairs with the design's claims, refresh tokens used
once, one answer for every refused sign-in, throttling of failed ones, and the users of a
terminated employee."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date
from typing import Any

import httpx
import jwt
import pytest
from argon2 import PasswordHasher

from gateway.config import Settings
from gateway.main import create_app
from shared_schemas.broker import free_port
from shared_schemas.events.base import new_event
from shared_schemas.events.erp.employees import EmployeeTerminated
from shared_schemas.messaging import Outcome
from shared_schemas.roles import Role
from tests.support.gateway import Gateway
from tests.support.gateway_identity import (
    PASSWORD,
    GatewayApp,
    bearer,
    claims_of,
    create_user,
    gateway_of,
    refresh,
    settings_for,
    sign_in,
    token_pair,
    without_instance,
)
from tests.support.kafka_tools import until

pytestmark = [pytest.mark.api, pytest.mark.security]

EMPLOYEE = uuid.UUID("e0000000-0000-4000-8000-000000000001")


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
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Throttling kept out of the way: every attempt here reaches the password check.
    async with gateway_of(settings_for(database_url, login_max_failures=100)) as gateway:
        user = await create_user(gateway, "carol")
        await create_user(gateway, "dave")
        disabled = await gateway.client.patch(
            f"/auth/users/{user['id']}", json={"disabled": True}, headers=gateway.headers("admin")
        )
        assert disabled.status_code == 200, disabled.text
        attempts = {
            "unknown user": ("nobody", PASSWORD),
            "wrong password": ("dave", "not the password"),
            "disabled user": ("carol", PASSWORD),
            # No database stores a NUL (PostgreSQL refuses it): still just no such user.
            "a NUL in the username": ("dave\x00", PASSWORD),
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

        # An unknown username is checked against a dummy hash of the same parameters as a
        # real one: one full argon2 verification either way, no shortcut to measure.
        checked: list[str] = []
        real_verify = PasswordHasher.verify

        def counted(hasher: PasswordHasher, password_hash: str | bytes, password: Any) -> bool:
            checked.append(str(password_hash))
            return real_verify(hasher, password_hash, password)

        monkeypatch.setattr(PasswordHasher, "verify", counted)
        costs = {}
        for username in ("nobody", "dave", "no\x00body"):
            checked.clear()
            response = await sign_in(gateway.client, username, "still not the password")
            assert response.status_code == 401
            assert len(checked) == 1, (username, checked)
            # "$argon2id$v=19$m=...,t=...,p=...$salt$hash": the algorithm and its costs.
            costs[username] = checked[0].split("$")[1:4]
        assert costs["nobody"] == costs["dave"] == costs["no\x00body"], costs
        assert costs["nobody"][0] == "argon2id"


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


async def test_a_form_that_cannot_be_read_is_a_documented_400(gateway: Gateway) -> None:
    # Bytes that are no UTF-8, or more parameters than any grant has: what a client gets
    # is a 400, and the API document lists it for both form routes.
    document = (await gateway.client.get("/gateway/openapi.json")).json()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for body in (b"grant_type=password&username=\xff&password=x", b"&".join([b"a=1"] * 25)):
        response = await gateway.client.post("/auth/token", content=body, headers=form)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["error"] == "invalid_request"
    for route in ("/auth/token", "/auth/exchange"):
        answers = document["paths"][route]["post"]["responses"]
        assert "400" in answers, route
        assert list(answers["400"]["content"]) == ["application/problem+json"], route


async def test_a_sign_in_while_the_database_is_away_is_a_503_to_retry() -> None:
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gone"
    app = create_app(Settings(database_url=nowhere))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        answer = await client.post(
            "/auth/token",
            data={"grant_type": "password", "username": "sales", "password": "dev-sales"},
        )
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert int(answer.headers["retry-after"]) > 0
    assert "access_token" not in answer.text
    documented = app.openapi()["paths"]["/auth/token"]["post"]["responses"]
    assert "503" in documented
    await app.state.engine.dispose()


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
            await until(
                lambda: sign_in(fresh, "grace", PASSWORD),
                lambda response: response.status_code == 200,
                "the window to pass",
            )


async def test_usernames_no_database_stores_are_throttled_like_any_other(
    database_url: str,
) -> None:
    settings = settings_for(database_url, login_max_failures=2, login_window_seconds=60)
    async with gateway_of(settings) as gateway:
        for number in range(2):
            async with gateway.client_from(f"192.0.2.{40 + number}") as client:
                assert (await sign_in(client, "eve\x00", "guess")).status_code == 401
        async with gateway.client_from("192.0.2.49") as fresh:
            throttled = await sign_in(fresh, "eve\x00", "guess")
            assert throttled.status_code == 429, throttled.text
            # Another name, counted apart.
            assert (await sign_in(fresh, "eve", "guess")).status_code == 401


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


async def test_a_burst_of_parallel_guesses_gets_no_more_tries_than_the_limit(
    database_url: str,
) -> None:
    settings = settings_for(database_url, login_max_failures=5, login_window_seconds=60)
    async with gateway_of(settings) as gateway:
        await create_user(gateway, "peggy")

        async def guess(number: int) -> int:
            # From addresses of their own: only the username's count stands in the way.
            async with gateway.client_from(f"203.0.113.{number}") as client:
                return (await sign_in(client, "peggy", f"guess-{number}")).status_code

        answers = await asyncio.gather(*(guess(number) for number in range(20)))
        assert sorted(answers) == [401] * 5 + [429] * 15


async def test_many_people_signing_in_from_one_address_at_once_all_get_in(
    database_url: str,
) -> None:
    # An office behind one address, everyone arriving at nine: none of them failed.
    settings = settings_for(database_url, login_max_failures=3, login_window_seconds=60)
    async with gateway_of(settings, address="192.0.2.30") as gateway:
        names = [f"colleague.{number}" for number in range(8)]
        for name in names:
            await create_user(gateway, name)
        answers = await asyncio.gather(*(sign_in(gateway.client, name, PASSWORD) for name in names))
        assert [answer.status_code for answer in answers] == [200] * len(names)


async def test_a_successful_sign_in_is_no_failure_of_its_address(database_url: str) -> None:
    settings = settings_for(database_url, login_max_failures=2, login_window_seconds=60)
    async with gateway_of(settings, address="192.0.2.20") as gateway:
        await create_user(gateway, "quentin")
        for _ in range(3):
            assert (await sign_in(gateway.client, "quentin", PASSWORD)).status_code == 200
        assert (await sign_in(gateway.client, "nobody", "guess")).status_code == 401
        assert (await sign_in(gateway.client, "somebody", "guess")).status_code == 401
        assert (await sign_in(gateway.client, "quentin", PASSWORD)).status_code == 429


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
    await until(
        lambda: gateway.client.get("/auth/users", headers=bearer(pairs["leaver"]["access_token"])),
        lambda response: response.status_code == 401,
        "the leaver's access token to be refused",
    )
    assert (await sign_in(gateway.client, "leaver", PASSWORD)).status_code == 401
    still = await gateway.client.get("/auth/users", headers=bearer(pairs["stayer"]["access_token"]))
    assert still.status_code == 200
    assert (await refresh(gateway.client, pairs["stayer"]["refresh_token"])).status_code == 200

    # The gateway remembers who has left: no user stands for them again.
    linked = await gateway.client.post(
        "/auth/users",
        json={"username": "leaver.new", "password": PASSWORD, "roles": ["sales"]}
        | {"employee_id": str(EMPLOYEE)},
        headers=admin,
    )
    assert linked.status_code == 409, linked.text
    assert "has left" in linked.json()["detail"]
    for user, change in [
        (leaver, {"disabled": False}),
        (stayer, {"employee_id": str(EMPLOYEE)}),
    ]:
        refused = await gateway.client.patch(
            f"/auth/users/{user['id']}", json=change, headers=admin
        )
        assert refused.status_code == 409, refused.text
    names = await gateway.client.get("/auth/users", params={"q": "leaver"}, headers=admin)
    assert sorted((u["username"], u["disabled"]) for u in names.json()["items"]) == [
        ("leaver", True),
        ("leaver.alt", True),
    ]
    assert (await gateway.client.get(f"/auth/users/{stayer['id']}", headers=admin)).json()[
        "employee_id"
    ] is None
    # Unlinked from the leaver, their user may work again (under another identity).
    unlinked = await gateway.client.patch(
        f"/auth/users/{leaver['id']}", json={"employee_id": None, "disabled": False}, headers=admin
    )
    assert unlinked.status_code == 200, unlinked.text
