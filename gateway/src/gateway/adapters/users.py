"""Tables of the gateway's users, the refresh tokens it issued, failed sign-ins, and the
employees ERP announced as terminated."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from gateway.adapters.orm import Base
from shared_schemas.database import Record, UtcDateTime
from shared_schemas.listing import SearchKey


class User(Record, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(100))
    # Normalised username (`domain.identity.username_key`): unique whatever the case, and
    # the prefix search of `q`.
    username_key: Mapped[str] = mapped_column(SearchKey, unique=True)
    # argon2id, in the PHC string format (parameters and salt included).
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON)
    employee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    # The `sub` of the external OIDC issuer's tokens this user signs in with, if any.
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    disabled: Mapped[bool] = mapped_column(default=False, index=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (
        Index("ix_users_created", "created_at", "id"),
        Index("ix_users_username", "username_key", "id"),
    )


class RefreshToken(Base):
    """A refresh token issued, by its `jti`: used once (rotated), revoked when its user is
    disabled or changes password."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # rotated | reused | disabled | password-changed
    revoked_reason: Mapped[str | None] = mapped_column(String(20))
    # A session begun with an external token may hold fewer roles than its user: its
    # refreshed tokens never carry more than these. Null: the user's roles of the moment.
    roles_limit: Mapped[list[str] | None] = mapped_column(JSON)


FAILURE_KEY_LENGTH = 300


class SignInFailure(Base):
    """One failed sign-in, counted against a key: `user:<username key>` or `ip:<address>`."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    key: Mapped[str] = mapped_column(String(FAILURE_KEY_LENGTH))
    failed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # A username's attempt still being checked: counted already, but not yet a failure a
    # successful sign-in may forget (it may still fail after that success).
    pending: Mapped[bool] = mapped_column(default=False, server_default=false())

    __table_args__ = (Index("ix_sign_in_failures_key", "key", "failed_at"),)


class TerminatedEmployee(Base):
    """An employee ERP announced as terminated (`erp.employee.terminated.v1`): no user is
    linked to them, or enabled while linked to them, from then on."""

    __tablename__ = "terminated_employees"

    employee_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    terminated_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
