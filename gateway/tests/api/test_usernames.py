"""Usernames at sign-in: a name of any form the sign-in form takes is refused, and
throttled, like any other unknown one."""

from __future__ import annotations

import pytest

from tests.support.gateway_identity import (
    gateway_of,
    settings_for,
    sign_in,
    without_instance,
)

pytestmark = [pytest.mark.api, pytest.mark.security]


async def test_a_username_that_case_folds_long_is_refused_and_throttled_like_any_other(
    database_url: str,
) -> None:
    settings = settings_for(database_url, login_max_failures=2, login_window_seconds=60)
    async with gateway_of(settings) as gateway:
        async with gateway.client_from("192.0.2.1") as first:
            unknown = await sign_in(first, "nobody", "a guess")
        assert unknown.status_code == 401
        # 200 characters (the most the form takes), each case-folding to "ffi".
        folding = "\ufb03" * 200
        for address in ("192.0.2.2", "192.0.2.3"):
            async with gateway.client_from(address) as client:
                refused = await sign_in(client, folding, "a guess")
            assert refused.status_code == 401, refused.text
            assert without_instance(refused.json()) == without_instance(unknown.json())
        async with gateway.client_from("192.0.2.4") as fresh:
            throttled = await sign_in(fresh, folding, "a guess")
        assert throttled.status_code == 429, throttled.text
        assert int(throttled.headers["Retry-After"]) > 0
