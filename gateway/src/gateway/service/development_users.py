"""The development users (one per role, design §7): seeded when the gateway starts in
development, refused when it starts in production."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.adapters.users import User
from gateway.config import Settings
from gateway.domain.identity import development_users, username_key
from gateway.service.passwords import Passwords
from gateway.service.users import ensure_bootstrap_admin
from shared_schemas.database import utcnow
from shared_schemas.identity import DevelopmentSecretInProduction

log = logging.getLogger(__name__)


async def seed_development_users(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords
) -> list[str]:
    """Create the development users that are missing; the usernames created. Replicas
    starting together insert the same usernames: the unique username makes all but one
    insert of each a no-op. A development user changed or disabled since stays so."""
    wanted = development_users()
    async with sessions() as session:
        existing = set(
            await session.scalars(
                select(User.username_key).where(
                    User.username_key.in_([username_key(user.username) for user in wanted])
                )
            )
        )
        await session.rollback()
    missing = [user for user in wanted if username_key(user.username) not in existing]
    if not missing:
        return []
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "username": user.username,
            "username_key": username_key(user.username),
            "password_hash": await passwords.hash(user.password),
            "roles": [user.role.value],
            "employee_id": user.employee_id,
            "disabled": False,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for user in missing
    ]
    async with sessions() as session, session.begin():
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(User).on_conflict_do_nothing(index_elements=["username_key"])
        await session.execute(statement, rows)
    created = [user.username for user in missing]
    log.info("development users ready: %s", ", ".join(created))
    return created


async def development_users_present(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords
) -> list[str]:
    """Enabled users who can still sign in with a published development password."""
    wanted = {username_key(user.username): user for user in development_users()}
    async with sessions() as session:
        found = list(
            await session.execute(
                select(User.username_key, User.password_hash).where(
                    User.username_key.in_(list(wanted)), User.disabled.is_(False)
                )
            )
        )
        await session.rollback()
    return [
        key
        for key, password_hash in found
        if await passwords.verify(password_hash, wanted[key].password)
    ]


async def prepare_users(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], passwords: Passwords
) -> None:
    """At start: seed the development users in development; in production refuse to run
    while any user still has a development password. Then create the bootstrap
    administrator if one is configured and missing."""
    if settings.environment == "development":
        await seed_development_users(sessions, passwords)
    else:
        present = await development_users_present(sessions, passwords)
        if present:
            names = ", ".join(sorted(present))
            raise DevelopmentSecretInProduction(
                "development users with their published passwords exist; disable them or "
                f"change their passwords before starting in production: {names}"
            )
    username, password = settings.bootstrap_admin_username, settings.bootstrap_admin_password
    if username is None or password is None:
        return
    if await ensure_bootstrap_admin(sessions, passwords, username, password.get_secret_value()):
        log.info("bootstrap administrator %s created", username)
