"""`disabled_reason` of a user: what an admin sends is kept or refused, never dropped
with a 200 (disabling an already disabled user with a new reason records it; a reason
for a user who stays enabled is a 422 naming the field)."""

from __future__ import annotations

import pytest

from tests.support.gateway import Gateway
from tests.support.gateway_identity import create_user

pytestmark = pytest.mark.api


async def test_a_disabled_users_reason_is_corrected_with_disabled_true(gateway: Gateway) -> None:
    user = await create_user(gateway, "parted")
    path = f"/auth/users/{user['id']}"
    admin = gateway.headers("admin")
    first = await gateway.client.patch(
        path, json={"disabled": True, "disabled_reason": "on leave"}, headers=admin
    )
    assert first.status_code == 200, first.text
    corrected = await gateway.client.patch(
        path, json={"disabled": True, "disabled_reason": "left the company"}, headers=admin
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["disabled_reason"] == "left the company"
    assert corrected.json()["disabled_at"] == first.json()["disabled_at"]
    assert corrected.json()["version"] == first.json()["version"] + 1
    read = await gateway.client.get(path, headers=admin)
    assert read.json() == corrected.json()


async def test_a_reason_for_a_user_who_stays_enabled_is_refused(gateway: Gateway) -> None:
    user = await create_user(gateway, "present")
    path = f"/auth/users/{user['id']}"
    admin = gateway.headers("admin")
    for body in ({"disabled_reason": "left"}, {"disabled": False, "disabled_reason": "left"}):
        refused = await gateway.client.patch(path, json=body, headers=admin)
        assert refused.status_code == 422, (body, refused.text)
        assert [error["field"] for error in refused.json()["errors"]] == ["disabled_reason"]
    unchanged = await gateway.client.get(path, headers=admin)
    assert (unchanged.json()["version"], unchanged.json()["disabled_reason"]) == (1, None)
