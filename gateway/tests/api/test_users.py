"""`/auth/users`: admins create, list, read and change users; nobody else may; no answer
ever carries a password or its hash."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.support.gateway import Gateway
from tests.support.gateway_identity import (
    PASSWORD,
    bearer,
    create_user,
    refresh,
    sign_in,
    token_pair,
)

pytestmark = [pytest.mark.api, pytest.mark.security]

EMPLOYEE = "d0000000-0000-4000-8000-0000000000aa"


def assert_no_secret(body: Any) -> None:
    text = str(body)
    assert "password" not in text
    assert "$argon2" not in text


async def test_an_admin_creates_a_user_who_can_sign_in(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/auth/users",
        json={
            "username": "Jane.Doe",
            "password": PASSWORD,
            "roles": ["sales", "support"],
            "employee_id": EMPLOYEE,
        },
        headers=gateway.headers("admin"),
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert_no_secret(user)
    assert set(user) == {
        "id",
        "username",
        "roles",
        "employee_id",
        "oidc_subject",
        "disabled",
        "disabled_reason",
        "disabled_at",
        "version",
        "created_at",
        "updated_at",
    }
    assert user["username"] == "Jane.Doe"
    assert user["roles"] == ["sales", "support"]
    assert user["employee_id"] == EMPLOYEE
    assert user["disabled"] is False
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/auth/users/{user['id']}"
    # Usernames are unique whatever the case, and sign-in ignores the case too.
    pair = await token_pair(gateway.client, "jane.doe", PASSWORD)
    assert pair["token_type"] == "bearer"
    duplicate = await gateway.client.post(
        "/auth/users",
        json={"username": "JANE.DOE", "password": PASSWORD, "roles": ["sales"]},
        headers=gateway.headers("admin"),
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["existing_id"] == user["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "short.pw", "password": "too short", "roles": ["sales"]}, "password"),
        ({"username": "no.roles", "password": PASSWORD, "roles": []}, "roles"),
        ({"username": "odd.role", "password": PASSWORD, "roles": ["root"]}, "roles.0"),
        ({"username": "bad name!", "password": PASSWORD, "roles": ["sales"]}, "username"),
        ({"username": "x" * 101, "password": PASSWORD, "roles": ["sales"]}, "username"),
        (
            {"username": "hashy", "password": PASSWORD, "roles": ["hr"], "password_hash": "x"},
            "password_hash",
        ),
    ],
)
async def test_invalid_users_are_refused_field_by_field(
    gateway: Gateway, body: dict[str, Any], field: str
) -> None:
    response = await gateway.client.post("/auth/users", json=body, headers=gateway.headers("admin"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert PASSWORD not in response.text


@pytest.mark.parametrize(
    "role", ["sales", "sales_manager", "support", "warehouse", "finance", "hr"]
)
async def test_only_admins_manage_users(gateway: Gateway, role: str) -> None:
    user = await create_user(gateway, f"target.{role}")
    headers = gateway.headers(role)
    calls = [
        gateway.client.get("/auth/users", headers=headers),
        gateway.client.get(f"/auth/users/{user['id']}", headers=headers),
        gateway.client.post(
            "/auth/users",
            json={"username": f"new.{role}", "password": PASSWORD, "roles": ["admin"]},
            headers=headers,
        ),
        gateway.client.patch(
            f"/auth/users/{user['id']}", json={"roles": ["admin"]}, headers=headers
        ),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 403, response.text
    assert (await gateway.client.get("/auth/users")).status_code == 401


async def test_users_are_listed_page_by_page_and_searched(gateway: Gateway) -> None:
    names = ["ann", "bob", "bea", "carl", "cora"]
    for name in names:
        await create_user(gateway, name)
    admin = gateway.headers("admin")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, "sort": "username"}
        if cursor:
            params["cursor"] = cursor
        response = await gateway.client.get("/auth/users", params=params, headers=admin)
        assert response.status_code == 200, response.text
        page = response.json()
        assert_no_secret(page)
        seen += [user["username"] for user in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(names)
    assert pages == 3
    found = await gateway.client.get("/auth/users", params={"q": "B"}, headers=admin)
    assert sorted(user["username"] for user in found.json()["items"]) == ["bea", "bob"]
    newest_first = await gateway.client.get("/auth/users", headers=admin)
    assert [user["username"] for user in newest_first.json()["items"]] == names[::-1]
    too_many = await gateway.client.get("/auth/users", params={"limit": 201}, headers=admin)
    assert too_many.status_code == 422


async def test_one_user_is_read_by_id(gateway: Gateway) -> None:
    user = await create_user(gateway, "reader", employee_id=EMPLOYEE)
    admin = gateway.headers("admin")
    response = await gateway.client.get(f"/auth/users/{user['id']}", headers=admin)
    assert response.status_code == 200
    assert response.json() == user
    assert response.headers["ETag"] == '"1"'
    by_employee = await gateway.client.get(
        "/auth/users", params={"employee_id": EMPLOYEE}, headers=admin
    )
    assert [found["id"] for found in by_employee.json()["items"]] == [user["id"]]
    missing = await gateway.client.get(f"/auth/users/{uuid.uuid4()}", headers=admin)
    assert missing.status_code == 404


async def test_an_admin_changes_roles_and_employee_with_if_match(gateway: Gateway) -> None:
    user = await create_user(gateway, "changer")
    admin = gateway.headers("admin")
    path = f"/auth/users/{user['id']}"
    changed = await gateway.client.patch(
        path,
        json={"roles": ["finance", "sales"], "employee_id": EMPLOYEE},
        headers={**admin, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["roles"] == ["finance", "sales"]
    assert changed.json()["employee_id"] == EMPLOYEE
    assert changed.headers["ETag"] == '"2"'
    stale = await gateway.client.patch(
        path, json={"roles": ["hr"]}, headers={**admin, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert (
        await gateway.client.patch(path, json={"roles": None}, headers=admin)
    ).status_code == 422
    unlinked = await gateway.client.patch(path, json={"employee_id": None}, headers=admin)
    assert unlinked.json()["employee_id"] is None
    # New tokens carry what the user is now.
    pair = await token_pair(gateway.client, "changer", PASSWORD)
    assert pair["access_token"]
    missing = await gateway.client.patch(f"/auth/users/{uuid.uuid4()}", json={}, headers=admin)
    assert missing.status_code == 404


async def test_a_new_password_ends_the_sessions_of_the_old_one(gateway: Gateway) -> None:
    user = await create_user(gateway, "rotator")
    old = await token_pair(gateway.client, "rotator", PASSWORD)
    response = await gateway.client.patch(
        f"/auth/users/{user['id']}",
        json={"password": "an entirely new passphrase"},
        headers=gateway.headers("admin"),
    )
    assert response.status_code == 200
    assert_no_secret(response.json())
    assert (await sign_in(gateway.client, "rotator", PASSWORD)).status_code == 401
    assert (await sign_in(gateway.client, "rotator", "an entirely new passphrase")).is_success
    assert (await refresh(gateway.client, old["refresh_token"])).status_code == 401
    short = await gateway.client.patch(
        f"/auth/users/{user['id']}", json={"password": "short"}, headers=gateway.headers("admin")
    )
    assert short.status_code == 422


async def test_a_disabled_user_is_locked_out_at_once_and_can_be_enabled(gateway: Gateway) -> None:
    await create_user(gateway, "keeper", roles=["admin"])  # not the last administrator
    user = await create_user(gateway, "leaver", roles=["admin"])
    pair = await token_pair(gateway.client, "leaver", PASSWORD)
    own = bearer(pair["access_token"])
    assert (await gateway.client.get("/auth/users", headers=own)).status_code == 200
    admin = gateway.headers("admin")
    path = f"/auth/users/{user['id']}"
    disabled = await gateway.client.patch(
        path, json={"disabled": True, "disabled_reason": "left the company"}, headers=admin
    )
    assert disabled.status_code == 200
    assert disabled.json()["disabled"] is True
    assert disabled.json()["disabled_reason"] == "left the company"
    assert disabled.json()["disabled_at"] is not None
    # This process made the change: its access token is refused on the next request.
    refused = await gateway.client.get("/auth/users", headers=own)
    assert refused.status_code == 401
    # Whatever the route and headers: a retry-safe POST is refused just the same.
    for path_, body in [
        ("/auth/users", {"username": "backdoor", "password": PASSWORD, "roles": ["admin"]}),
        ("/api/webhooks", {"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}),
    ]:
        keyed = await gateway.client.post(
            path_, json=body, headers={**own, "Idempotency-Key": f"leaver-{path_}"}
        )
        assert keyed.status_code == 401, keyed.text
    names = await gateway.client.get("/auth/users", params={"limit": 200}, headers=admin)
    assert "backdoor" not in {found["username"] for found in names.json()["items"]}
    assert (await refresh(gateway.client, pair["refresh_token"])).status_code == 401
    assert (await sign_in(gateway.client, "leaver", PASSWORD)).status_code == 401
    listed = await gateway.client.get("/auth/users", params={"disabled": "true"}, headers=admin)
    assert [found["id"] for found in listed.json()["items"]] == [user["id"]]

    enabled = await gateway.client.patch(path, json={"disabled": False}, headers=admin)
    assert enabled.json()["disabled"] is False
    assert enabled.json()["disabled_reason"] is None
    again = await token_pair(gateway.client, "leaver", PASSWORD)
    assert (
        await gateway.client.get("/auth/users", headers=bearer(again["access_token"]))
    ).is_success


async def test_an_admin_cannot_disable_their_own_user(gateway: Gateway) -> None:
    user = await create_user(gateway, "self.admin", roles=["admin"])
    pair = await token_pair(gateway.client, "self.admin", PASSWORD)
    response = await gateway.client.patch(
        f"/auth/users/{user['id']}",
        json={"disabled": True},
        headers=bearer(pair["access_token"]),
    )
    assert response.status_code == 409


async def test_the_last_enabled_administrator_is_neither_demoted_nor_disabled(
    gateway: Gateway,
) -> None:
    first = await create_user(gateway, "first.admin", roles=["admin"])
    own = bearer((await token_pair(gateway.client, "first.admin", PASSWORD))["access_token"])
    path = f"/auth/users/{first['id']}"
    demoted = await gateway.client.patch(path, json={"roles": ["sales"]}, headers=own)
    assert demoted.status_code == 409, demoted.text
    assert demoted.headers["content-type"] == "application/problem+json"
    disabled = await gateway.client.patch(
        path, json={"disabled": True}, headers=gateway.headers("admin")
    )
    assert disabled.status_code == 409, disabled.text
    assert (await gateway.client.get(path, headers=own)).json()["roles"] == ["admin"]

    second = await create_user(gateway, "second.admin", roles=["admin", "hr"])
    handed_over = await gateway.client.patch(path, json={"roles": ["sales"]}, headers=own)
    assert handed_over.status_code == 200, handed_over.text
    last = await gateway.client.patch(
        f"/auth/users/{second['id']}", json={"roles": ["hr"]}, headers=gateway.headers("admin")
    )
    assert last.status_code == 409, last.text


async def test_two_administrators_disabling_each_other_at_once_leave_one(
    gateway: Gateway,
) -> None:
    admins = [await create_user(gateway, name, roles=["admin"]) for name in ("ann", "bob")]
    tokens = [
        bearer((await token_pair(gateway.client, name, PASSWORD))["access_token"])
        for name in ("ann", "bob")
    ]
    answers = await asyncio.gather(
        gateway.client.patch(
            f"/auth/users/{admins[1]['id']}", json={"disabled": True}, headers=tokens[0]
        ),
        gateway.client.patch(
            f"/auth/users/{admins[0]['id']}", json={"disabled": True}, headers=tokens[1]
        ),
    )
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    listed = await gateway.client.get(
        "/auth/users", params={"disabled": "false"}, headers=gateway.headers("admin")
    )
    assert [user["username"] for user in listed.json()["items"]] in (["ann"], ["bob"])
