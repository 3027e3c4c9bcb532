"""A successful sign-in racing wrong guesses at the same username: it forgives the
failures that had ended before it began, and no other. A guess in flight beside it, or
begun while its password was checked, still counts, so racing a legitimate sign-in buys
an attacker no fresh budget (staged on SQLite and PostgreSQL by pausing the password
check; on PostgreSQL also inside the database, the success waiting for its user's row)."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import func, select

from gateway.adapters.users import SignInFailure
from shared_schemas.database import session_factory
from tests.support.gateway_identity import (
    PASSWORD,
    GatewayApp,
    create_user,
    gateway_of,
    settings_for,
    sign_in,
)
from tests.support.races import holding, require_postgresql, waiting

pytestmark = [pytest.mark.api, pytest.mark.security]

TIMEOUT = 30


@dataclass
class Hold:
    """One password's check, paused once its answer is known until `release()`."""

    checked: asyncio.Event = field(default_factory=asyncio.Event)
    go_on: asyncio.Event = field(default_factory=asyncio.Event)

    async def reached(self) -> None:
        await asyncio.wait_for(self.checked.wait(), TIMEOUT)

    def release(self) -> None:
        self.go_on.set()


@asynccontextmanager
async def paused_checks(gateway: GatewayApp) -> AsyncIterator[dict[str, Hold]]:
    """Password checks of the passwords put in the dict pause there (the attempt begun,
    its failure pending); every other check runs through."""
    passwords = gateway.app.state.identity.sign_in.passwords
    verify, holds = passwords.verify, dict[str, Hold]()

    async def paused(password_hash: str | None, password: str) -> bool:
        matches: bool = await verify(password_hash, password)
        hold = holds.get(password)
        if hold is not None:
            hold.checked.set()
            await asyncio.wait_for(hold.go_on.wait(), TIMEOUT)
        return matches

    passwords.verify = paused
    try:
        yield holds
    finally:
        passwords.verify = verify
        for hold in holds.values():
            hold.release()


ADDRESSES = itertools.count(1)


async def attempt(gateway: GatewayApp, username: str, password: str) -> httpx.Response:
    """A sign-in from an address of its own: only the username's count is at stake."""
    number = next(ADDRESSES)
    async with gateway.client_from(
        f"10.{number // 65_536 % 256}.{number // 256 % 256}.{number % 256}"
    ) as client:
        return await sign_in(client, username, password)


async def pending_failures(gateway: GatewayApp) -> int:
    """Attempts still being checked, as the database has them."""
    async with session_factory(gateway.app.state.engine)() as session:
        count = await session.scalar(select(func.count()).where(SignInFailure.pending))
        return int(count or 0)


async def test_a_success_forgives_only_the_failures_that_ended_before_it_began(
    database_url: str,
) -> None:
    settings = settings_for(database_url, login_max_failures=4, login_window_seconds=60)
    async with gateway_of(settings) as gateway, paused_checks(gateway) as holds:
        await create_user(gateway, "rita")
        # A wrong guess that ended before: the legitimate user's own typo, forgiven.
        assert (await attempt(gateway, "rita", "typo")).status_code == 401

        # A guess in flight when the legitimate sign-in begins, and all through it.
        holds["guess in flight"] = in_flight = Hold()
        guessing = asyncio.create_task(attempt(gateway, "rita", "guess in flight"))
        await in_flight.reached()
        holds[PASSWORD] = legitimate = Hold()
        signing_in = asyncio.create_task(attempt(gateway, "rita", PASSWORD))
        await legitimate.reached()
        # A guess begun and refused while the legitimate password is being checked.
        assert (await attempt(gateway, "rita", "guess meanwhile")).status_code == 401

        legitimate.release()
        assert (await signing_in).status_code == 200
        assert await pending_failures(gateway) == 1, "the guess in flight is still counted"
        in_flight.release()
        assert (await guessing).status_code == 401
        assert await pending_failures(gateway) == 0

        # Both racing guesses count: of 4 tries, 2 are left, and then even the right
        # password waits.
        for number in range(2):
            assert (await attempt(gateway, "rita", f"guess {number}")).status_code == 401
        throttled = await attempt(gateway, "rita", PASSWORD)
        assert throttled.status_code == 429, throttled.text
        assert throttled.headers["content-type"] == "application/problem+json"


async def test_a_success_still_forgives_every_failure_that_ended_before_it(
    database_url: str,
) -> None:
    settings = settings_for(database_url, login_max_failures=3, login_window_seconds=60)
    async with gateway_of(settings) as gateway:
        await create_user(gateway, "sven")
        for _ in range(2):
            assert (await attempt(gateway, "sven", "typo")).status_code == 401
        assert (await attempt(gateway, "sven", PASSWORD)).status_code == 200
        # A fresh budget of 3 for the user who got in.
        for _ in range(3):
            assert (await attempt(gateway, "sven", "typo")).status_code == 401
        assert (await attempt(gateway, "sven", PASSWORD)).status_code == 429


async def test_an_attempt_that_fails_for_want_of_a_dependency_leaves_no_failure(
    database_url: str,
) -> None:
    settings = settings_for(database_url, login_max_failures=1, login_window_seconds=60)
    async with gateway_of(settings) as gateway:
        await create_user(gateway, "tove")
        passwords = gateway.app.state.identity.sign_in.passwords
        verify = passwords.verify

        async def broken(password_hash: str | None, password: str) -> bool:
            raise OSError("the hasher's thread pool is gone")

        passwords.verify = broken
        try:
            unavailable = await attempt(gateway, "tove", PASSWORD)
        finally:
            passwords.verify = verify
        assert unavailable.status_code == 503, unavailable.text
        assert await pending_failures(gateway) == 0
        # Not counted: the one try allowed is still there.
        assert (await attempt(gateway, "tove", PASSWORD)).status_code == 200


async def test_guesses_committed_while_a_success_waits_for_its_user_still_count(
    database_url: str,
) -> None:
    """Inside the database: the success's transaction has begun (it waits for the user's
    row, held here) when two guesses commit their failures; it forgives neither."""
    settings = settings_for(database_url, login_max_failures=3, login_window_seconds=60)
    async with gateway_of(settings) as gateway:
        engine = gateway.app.state.engine
        require_postgresql(engine)
        user = await create_user(gateway, "ursula")
        lock_user = "SELECT id FROM users WHERE id = :id FOR UPDATE"
        async with holding(engine, lock_user, id=uuid.UUID(user["id"])):
            signing_in = asyncio.create_task(attempt(gateway, "ursula", PASSWORD))
            await waiting(engine, 1)  # its password was right; now it waits for the row
            for number in range(2):
                guess = await attempt(gateway, "ursula", f"guess {number}")
                assert guess.status_code == 401
        assert (await signing_in).status_code == 200
        # The two guesses still count: one try is left of 3.
        assert (await attempt(gateway, "ursula", "guess 2")).status_code == 401
        assert (await attempt(gateway, "ursula", PASSWORD)).status_code == 429
