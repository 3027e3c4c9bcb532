"""Ending sessions while one is being started: a password change ends the session of a
refresh in flight (PostgreSQL; SQLite runs one writer at a time), and a sign-in whose old
password was found right just before the change gets none."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.gateway_identity import (
    create_user,
    gateway_of,
    refresh,
    settings_for,
    sign_in,
    token_pair,
)
from tests.support.races import require_postgresql, waiting

pytestmark = [pytest.mark.api, pytest.mark.security]

NEW_PASSWORD = "an entirely new passphrase"


async def test_a_refresh_racing_a_password_change_ends_with_the_old_sessions(
    database_url: str,
) -> None:
    async with gateway_of(settings_for(database_url)) as gateway:
        require_postgresql(gateway.app.state.engine)
        user = await create_user(gateway, "racer")
        old = await token_pair(gateway.client, "racer", "correct horse battery staple")

        # The refresh pauses once it holds its token, just before issuing the new pair.
        sign_in = gateway.app.state.identity.sign_in
        issue, holding, go_on = sign_in._issue, asyncio.Event(), asyncio.Event()

        async def paused(*args: Any, **kwargs: Any) -> Any:
            holding.set()
            await go_on.wait()
            return await issue(*args, **kwargs)

        sign_in._issue = paused
        refreshing = asyncio.create_task(refresh(gateway.client, old["refresh_token"]))
        await asyncio.wait_for(holding.wait(), timeout=30)
        changing = asyncio.create_task(
            gateway.client.patch(
                f"/auth/users/{user['id']}",
                json={"password": NEW_PASSWORD},
                headers=gateway.headers("admin"),
            )
        )

        await waiting(gateway.app.state.engine, 1)  # the change waits for the refresh
        go_on.set()
        refreshed, changed = await asyncio.gather(refreshing, changing)
        sign_in._issue = issue
        assert changed.status_code == 200, changed.text
        # The refresh went first and got its pair; the change then ended that session too.
        assert refreshed.status_code == 200, refreshed.text
        renewed = await refresh(gateway.client, refreshed.json()["refresh_token"])
        assert renewed.status_code == 401, renewed.text


async def test_a_sign_in_racing_a_password_change_gets_no_session(database_url: str) -> None:
    async with gateway_of(settings_for(database_url)) as gateway:
        user = await create_user(gateway, "slow.signer")
        # The sign-in pauses once the old password has been found right.
        passwords = gateway.app.state.identity.sign_in.passwords
        verify, checked, go_on = passwords.verify, asyncio.Event(), asyncio.Event()

        async def paused(*args: Any) -> bool:
            matches: bool = await verify(*args)
            checked.set()
            await go_on.wait()
            return matches

        passwords.verify = paused
        signing_in = asyncio.create_task(
            sign_in(gateway.client, "slow.signer", "correct horse battery staple")
        )
        await asyncio.wait_for(checked.wait(), timeout=30)
        changed = await gateway.client.patch(
            f"/auth/users/{user['id']}",
            json={"password": NEW_PASSWORD},
            headers=gateway.headers("admin"),
        )
        assert changed.status_code == 200, changed.text
        go_on.set()
        answer = await signing_in
        passwords.verify = verify
        assert answer.status_code == 401, answer.text
        assert answer.json()["detail"] == "The username or password is not correct."
