"""Rules of the gateway's users and sign-ins: usernames, passwords, throttling of failed
sign-ins, the development users, which roles an external token may carry over, and the
token an `Authorization` header carries."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared_schemas.identity.development import DEVELOPMENT_EMPLOYEE_IDS
from shared_schemas.roles import Role

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$"
USERNAME_MAX_LENGTH = 100
# Passwords set through the API; the development users' are shorter on purpose (design §7)
# and never allowed in production.
PASSWORD_MIN_LENGTH = 12
# Long enough for any passphrase, short enough that hashing stays cheap.
PASSWORD_MAX_LENGTH = 256


def username_key(username: str) -> str:
    """The form a username is unique in: `Alice` and `alice` are one user."""
    return username.strip().casefold()


def retry_after(
    failures: Sequence[datetime], *, now: datetime, max_failures: int, window: timedelta
) -> timedelta | None:
    """How long a key (a username or a client address) must wait before signing in again,
    given the times of its failed sign-ins; None when it may try now.

    A key may try while fewer than `max_failures` failures lie within the last `window`;
    otherwise it waits until enough of them have left the window.
    """
    recent = sorted(failed for failed in failures if failed > now - window)
    if len(recent) < max_failures:
        return None
    # Once the oldest `len - max + 1` have left the window, one more try is allowed.
    frees_at = recent[len(recent) - max_failures] + window
    return max(frees_at - now, timedelta(seconds=1))


def retry_after_seconds(wait: timedelta) -> int:
    """`Retry-After` in whole seconds, never promising earlier than it is true."""
    return max(1, math.ceil(wait.total_seconds()))


@dataclass(frozen=True)
class DevelopmentUser:
    username: str
    password: str
    role: Role
    employee_id: uuid.UUID


def development_users() -> list[DevelopmentUser]:
    """One user per role, username = role, password `dev-<role>` (design §7), linked to
    the development employee `make run` creates in ERP."""
    return [
        DevelopmentUser(
            username=role.value,
            password=f"dev-{role.value}",
            role=role,
            employee_id=uuid.UUID(DEVELOPMENT_EMPLOYEE_IDS[role.value]),
        )
        for role in Role
    ]


def carried_roles(user_roles: Iterable[str], claimed: object) -> list[str]:
    """The roles of a token exchanged for an external one: the gateway user's, narrowed to
    those the external token also claims when it claims any. The external issuer may take
    roles away, never add them."""
    roles = sorted(set(user_roles))
    if claimed is None:
        return roles
    if isinstance(claimed, str):
        claimed = claimed.split()
    if not isinstance(claimed, list):
        return []
    named = {role for role in claimed if isinstance(role, str)}
    return [role for role in roles if role in named]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, None for any other; as the
    services' route checks read it (spaces after the scheme do not count)."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
