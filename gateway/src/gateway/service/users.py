"""Users of the gateway: created, listed, changed and disabled by admins; disabled when
their employee is terminated."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from gateway.adapters.users import RefreshToken, TerminatedEmployee, User
from gateway.domain.identity import username_key
from gateway.service.passwords import Passwords
from shared_schemas.database import lock_for_transaction, utcnow
from shared_schemas.domain import Conflict, Duplicate, NotFound, RuleViolation, StaleVersion
from shared_schemas.http.pagination import Page
from shared_schemas.listing import Listing, SortKey, prefix_match

# Held while a user is linked to an employee or enabled, and while a termination is
# recorded: neither slips in between the other's check and write.
EMPLOYEE_LINKS_LOCK = 0x6777_0001
# Held while a change may take an administrator away: two admins demoting or disabling
# each other at once cannot both pass the "another admin remains" check.
ADMINS_LOCK = 0x6777_0002
ADMIN = "admin"

USERS = Listing(
    fields={
        "created_at": SortKey(User.created_at, datetime),
        "username": SortKey(User.username_key),
    },
    id_column=User.id,
)


async def create_user(session: AsyncSession, passwords: Passwords, data: Mapping[str, Any]) -> User:
    key = username_key(data["username"])
    await _require_unique(session, User.username_key, key, None, "username")
    if data.get("employee_id"):
        await _refuse_leaver(session, data["employee_id"])
    if data.get("oidc_subject"):
        await _require_unique(
            session, User.oidc_subject, data["oidc_subject"], None, "oidc_subject"
        )
    user = User(
        id=uuid.uuid4(),
        username=data["username"].strip(),
        username_key=key,
        password_hash=await passwords.hash(data["password"]),
        roles=_roles(data["roles"]),
        employee_id=data.get("employee_id"),
        oidc_subject=data.get("oidc_subject"),
        disabled=False,
    )
    session.add(user)
    await _flush(session)
    return user


async def ensure_bootstrap_admin(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords, username: str, password: str
) -> bool:
    """Create the first administrator unless a user of that name exists (replicas starting
    together: one creates it, the others find it); whether this call created it."""
    async with sessions() as session, session.begin():
        try:
            await create_user(
                session, passwords, {"username": username, "password": password, "roles": ["admin"]}
            )
        except (Duplicate, Conflict):
            return False
    return True


async def list_users(
    session: AsyncSession,
    *,
    q: str | None,
    employee_id: uuid.UUID | None,
    disabled: bool | None,
    sort: str | None,
    cursor: str | None,
    limit: int,
) -> Page[User]:
    conditions: list[ColumnElement[bool]] = []
    if q:
        conditions.append(prefix_match(User.username_key, q))
    if employee_id is not None:
        conditions.append(User.employee_id == employee_id)
    if disabled is not None:
        conditions.append(User.disabled == disabled)
    query = select(User).where(and_(*conditions)) if conditions else select(User)
    rows = list(await session.scalars(USERS.apply(query, sort, cursor, limit)))
    return USERS.page(rows, limit, sort)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


async def update_user(
    session: AsyncSession,
    passwords: Passwords,
    user_id: uuid.UUID,
    changes: Mapping[str, Any],
    expected_version: int | None,
    *,
    acting_user_id: str,
) -> User:
    """Apply an admin's changes. A new password or disabling ends every session of the
    user (their refresh tokens are revoked; access tokens are refused by the gateway)."""
    user = await get_user(session, user_id)
    if expected_version is not None and expected_version != user.version:
        raise StaleVersion(user.version)
    now = utcnow()
    if _takes_admin_away(user, changes):
        await _keep_an_admin(session, user)
    if "roles" in changes:
        user.roles = _roles(changes["roles"])
    if "employee_id" in changes:
        user.employee_id = changes["employee_id"]
    if "oidc_subject" in changes and changes["oidc_subject"] != user.oidc_subject:
        if changes["oidc_subject"]:
            await _require_unique(
                session, User.oidc_subject, changes["oidc_subject"], user.id, "oidc_subject"
            )
        user.oidc_subject = changes["oidc_subject"]
    if changes.get("password") is not None:
        user.password_hash = await passwords.hash(changes["password"])
        await revoke_refresh_tokens(session, user.id, "password-changed", now)
    reason = changes.get("disabled_reason")
    if reason and not changes.get("disabled", user.disabled):
        raise RuleViolation(
            "Only a disabled user has a reason for it.",
            [{"field": "disabled_reason", "message": "the user is not disabled"}],
        )
    if "disabled" in changes:
        if changes["disabled"] and str(user.id) == acting_user_id:
            raise Conflict("You cannot disable your own user.")
        if changes["disabled"] and not user.disabled:
            _disable(user, reason or "disabled by an admin", now)
            await revoke_refresh_tokens(session, user.id, "disabled", now)
        elif not changes["disabled"]:
            user.disabled, user.disabled_reason, user.disabled_at = False, None, None
    if reason and user.disabled:
        user.disabled_reason = reason
    linking = "employee_id" in changes or changes.get("disabled") is False
    if linking and user.employee_id is not None and not user.disabled:
        await _refuse_leaver(session, user.employee_id)
    await _flush(session)
    return user


def _takes_admin_away(user: User, changes: Mapping[str, Any]) -> bool:
    if user.disabled or ADMIN not in user.roles:
        return False
    demoted = "roles" in changes and ADMIN not in _roles(changes["roles"])
    return demoted or bool(changes.get("disabled"))


async def _keep_an_admin(session: AsyncSession, user: User) -> None:
    """Conflict unless another enabled administrator remains: nobody could manage users
    any more (the bootstrap administrator is only created under a name not yet taken)."""
    await lock_for_transaction(session, ADMINS_LOCK)
    enabled = await session.execute(
        select(User.id, User.roles).where(User.disabled.is_(False), User.id != user.id)
    )
    if not any(ADMIN in roles for _id, roles in enabled):
        raise Conflict("This is the last enabled administrator: make another one first.")


async def _refuse_leaver(session: AsyncSession, employee_id: uuid.UUID) -> None:
    """Conflict if the employee has left: no enabled user may stand for them."""
    await lock_for_transaction(session, EMPLOYEE_LINKS_LOCK)
    left = await session.get(TerminatedEmployee, employee_id)
    if left is not None:
        raise Conflict(
            f"Employee {employee_id} has left (terminated on {left.terminated_on}): "
            "no enabled user may be linked to them."
        )


async def record_termination(
    session: AsyncSession, employee_id: uuid.UUID, terminated_on: date, now: datetime
) -> int:
    """Remember that the employee has left, and disable every user linked to them (their
    sessions end); the number of users disabled."""
    await lock_for_transaction(session, EMPLOYEE_LINKS_LOCK)
    if await session.get(TerminatedEmployee, employee_id) is None:
        session.add(
            TerminatedEmployee(
                employee_id=employee_id, terminated_on=terminated_on, recorded_at=now
            )
        )
    return await disable_employee_users(
        session, employee_id, f"employee terminated on {terminated_on.isoformat()}", now
    )


async def disable_employee_users(
    session: AsyncSession, employee_id: uuid.UUID, reason: str, now: datetime
) -> int:
    """Disable every enabled user linked to the employee and end their sessions; the number
    of users disabled."""
    users = list(
        await session.scalars(
            select(User).where(User.employee_id == employee_id, User.disabled.is_(False))
        )
    )
    for user in users:
        _disable(user, reason, now)
        await revoke_refresh_tokens(session, user.id, "disabled", now)
    await _flush(session)
    return len(users)


async def revoke_refresh_tokens(
    session: AsyncSession, user_id: uuid.UUID, reason: str, now: datetime
) -> None:
    """End every session of the user. Their row is locked first (a refresh holds it shared
    while it issues a token), so a token issued by a refresh in flight is revoked too."""
    await session.execute(select(User.id).where(User.id == user_id).with_for_update())
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )


def _roles(roles: Iterable[str]) -> list[str]:
    return sorted({str(role) for role in roles})


def _disable(user: User, reason: str, now: datetime) -> None:
    user.disabled, user.disabled_reason, user.disabled_at = True, reason[:500], now


async def _require_unique(
    session: AsyncSession,
    column: Any,
    value: str,
    user_id: uuid.UUID | None,
    field: str,
) -> None:
    existing = await session.scalar(select(User.id).where(column == value))
    if existing is not None and existing != user_id:
        raise Duplicate(f"A user with this {field} exists already.", existing)


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except StaleDataError as exc:
        raise Conflict("The user was changed meanwhile; fetch it again.") from exc
    except IntegrityError as exc:
        raise Conflict("Another user took this username or subject meanwhile.") from exc
