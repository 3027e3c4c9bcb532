"""Identity rules without I/O: throttling windows, usernames, development users, roles an
external token carries over, key ids, which external keys may verify what."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import RSAAlgorithm

from gateway.adapters.external_keys import pinned_keys
from gateway.domain.identity import (
    carried_roles,
    development_users,
    retry_after,
    retry_after_seconds,
    username_key,
)
from gateway.service.signing import thumbprint
from shared_schemas.identity import development_signer
from shared_schemas.identity.development import DEVELOPMENT_EMPLOYEE_IDS
from shared_schemas.roles import Role

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def test_fewer_failures_than_allowed_within_the_window_may_try() -> None:
    assert retry_after([], now=NOW, max_failures=3, window=WINDOW) is None
    assert retry_after([ago(10), ago(20)], now=NOW, max_failures=3, window=WINDOW) is None
    # Failures older than the window count for nothing.
    old = [ago(WINDOW.total_seconds() + 1)] * 10
    assert retry_after([*old, ago(5)], now=NOW, max_failures=3, window=WINDOW) is None


def test_enough_failures_wait_until_the_oldest_leaves_the_window() -> None:
    failures = [ago(600), ago(300), ago(60)]
    wait = retry_after(failures, now=NOW, max_failures=3, window=WINDOW)
    assert wait == WINDOW - timedelta(seconds=600)
    # Five failures with three allowed: three of them must leave the window first.
    failures = [ago(800), ago(700), ago(600), ago(100), ago(50)]
    wait = retry_after(failures, now=NOW, max_failures=3, window=WINDOW)
    assert wait == WINDOW - timedelta(seconds=600)


@settings(max_examples=200, deadline=None)
@given(
    ages=st.lists(st.floats(min_value=0, max_value=1_000), max_size=12),
    allowed=st.integers(min_value=1, max_value=6),
)
def test_after_the_wait_one_more_try_is_allowed(ages: list[float], allowed: int) -> None:
    failures = [ago(age) for age in ages]
    wait = retry_after(failures, now=NOW, max_failures=allowed, window=WINDOW)
    if wait is None:
        assert sum(1 for f in failures if f > NOW - WINDOW) < allowed
        return
    assert timedelta(0) < wait <= WINDOW
    later = NOW + wait
    assert retry_after(failures, now=later, max_failures=allowed, window=WINDOW) is None
    assert retry_after_seconds(wait) >= wait.total_seconds()


def test_retry_after_is_whole_seconds_never_early() -> None:
    assert retry_after_seconds(timedelta(milliseconds=1)) == 1
    assert retry_after_seconds(timedelta(seconds=59.2)) == 60
    assert retry_after_seconds(timedelta(seconds=60)) == 60


def test_usernames_are_one_whatever_the_case_and_surrounding_space() -> None:
    assert username_key("  Jane.Doe ") == username_key("jane.doe") == "jane.doe"
    assert username_key("STRASSE") == username_key("straße".upper())


def test_one_development_user_per_role_linked_to_its_employee() -> None:
    users = development_users()
    assert [user.role for user in users] == list(Role)
    for user in users:
        assert user.username == user.role.value
        assert user.password == f"dev-{user.role.value}"
        assert user.employee_id == uuid.UUID(DEVELOPMENT_EMPLOYEE_IDS[user.role.value])


@pytest.mark.parametrize(
    ("claimed", "carried"),
    [
        (None, ["admin", "sales"]),
        (["sales"], ["sales"]),
        (["sales", "hr", "finance"], ["sales"]),
        ("sales admin", ["admin", "sales"]),
        ([], []),
        ({"role": "admin"}, []),
        ([1, "admin"], ["admin"]),
    ],
)
def test_an_external_token_narrows_the_users_roles_never_widens(
    claimed: object, carried: list[str]
) -> None:
    assert carried_roles(["sales", "admin"], claimed) == carried


def test_a_key_id_by_default_is_the_rfc_7638_thumbprint() -> None:
    # RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_external_keys_are_pinned_by_their_type() -> None:
    rsa: dict[str, object] = RSAAlgorithm.to_jwk(
        generate_private_key(public_exponent=65537, key_size=2048).public_key(), as_dict=True
    )
    ed25519 = development_signer().public_jwk()
    document = {
        "keys": [
            {**rsa, "kid": "rsa"},
            {**rsa, "kid": "rsa-hs", "alg": "HS256"},
            {**rsa, "kid": "rsa-enc", "use": "enc"},
            {**ed25519, "kid": "ed"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac", "alg": "HS256"},
            {"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "kid": "ec"},
            {**rsa},
            "not a key",
        ]
    }
    keys = pinned_keys(document)
    assert {kid: key.algorithm for kid, key in keys.items()} == {"rsa": "RS256", "ed": "EdDSA"}
