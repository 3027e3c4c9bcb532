"""`/auth/users`: the gateway's users, managed by admins. No response ever carries a
password or its hash."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from gateway.adapters.users import User
from gateway.domain.identity import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    USERNAME_MAX_LENGTH,
    USERNAME_PATTERN,
)
from gateway.identity import IdentityDep
from gateway.service import users
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.json_types import JsonBool
from shared_schemas.http.pagination import Cursor, Limit, Page
from shared_schemas.http.patch import NotNull
from shared_schemas.http.text import Words
from shared_schemas.identity import Access, Authorize
from shared_schemas.roles import Role

router = APIRouter(prefix="/auth/users", tags=["users"])

ReadAccess = Annotated[Access, Depends(Authorize("gateway", "users", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("gateway", "users", "create"))]
UpdateAccess = Annotated[Access, Depends(Authorize("gateway", "users", "update"))]

Username = Annotated[
    str,
    Field(
        min_length=1,
        max_length=USERNAME_MAX_LENGTH,
        pattern=USERNAME_PATTERN,
        description="Letters, digits and `._@+-`; unique whatever the case.",
    ),
]
Password = Annotated[
    str,
    Field(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
        description=f"At least {PASSWORD_MIN_LENGTH} characters. Never returned.",
    ),
]
Roles = Annotated[list[Role], Field(min_length=1, max_length=len(Role))]
OidcSubject = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        description="The `sub` of the external issuer's tokens that `POST /auth/exchange` "
        "accepts for this user.",
    ),
]
ReasonText = Annotated[Words, Field(max_length=500)]
EMPLOYEE_ID = "d0000000-0000-4000-8000-000000000002"


class UserCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "jane.doe",
                    "password": "correct horse battery staple",
                    "roles": ["sales"],
                    "employee_id": EMPLOYEE_ID,
                }
            ]
        },
    )

    username: Username
    password: Password
    roles: Roles
    employee_id: uuid.UUID | None = Field(
        default=None, description="The ERP employee the user is (owner of their records)."
    )
    oidc_subject: OidcSubject | None = None


class UserUpdate(BaseModel):
    """Fields to change; those left out stay. `disabled: true` ends the user's sessions at
    once, as does a new password; a null `employee_id` or `oidc_subject` unlinks.
    `disabled_reason` is kept for a user who is or becomes disabled (sent again with
    `disabled: true`, it corrects the reason) and refused (422) for one who stays enabled."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"disabled": True, "disabled_reason": "left the company"}]},
    )

    roles: Annotated[Roles | None, NotNull] = None
    employee_id: uuid.UUID | None = None
    password: Annotated[Password | None, NotNull] = None
    disabled: Annotated[JsonBool | None, NotNull] = None
    disabled_reason: ReasonText | None = None
    oidc_subject: OidcSubject | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "7b1f0c2e-3a4d-4e5f-8a6b-7c8d9e0f1a2b",
                    "username": "jane.doe",
                    "roles": ["sales"],
                    "employee_id": EMPLOYEE_ID,
                    "oidc_subject": None,
                    "disabled": False,
                    "disabled_reason": None,
                    "disabled_at": None,
                    "version": 1,
                    "created_at": "2026-11-30T08:00:00Z",
                    "updated_at": "2026-11-30T08:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    username: str
    roles: list[str]
    employee_id: uuid.UUID | None
    oidc_subject: str | None
    disabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


def _respond(response: Response, user: User) -> UserOut:
    set_etag(response, user.version)
    return UserOut.model_validate(user)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a user",
    responses={
        409: {"description": "The username (or OIDC subject) is taken, or the employee has left"}
    },
)
async def create_user(
    body: UserCreate, _access: CreateAccess, identity: IdentityDep, response: Response
) -> UserOut:
    async with identity.sessions.begin() as session:
        user = await users.create_user(session, identity.passwords, body.model_dump())
    response.headers["Location"] = f"/auth/users/{user.id}"
    return _respond(response, user)


@router.get("", summary="List and search users")
async def list_users(
    _access: ReadAccess,
    identity: IdentityDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[
        str | None, Query(description="`username`, `created_at`; prefix `-` for descending.")
    ] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Username prefix.")
    ] = None,
    employee_id: Annotated[uuid.UUID | None, Query(description="Users of this employee.")] = None,
    disabled: Annotated[bool | None, Query(description="Only disabled or enabled users.")] = None,
) -> Page[UserOut]:
    async with identity.sessions() as session:
        page = await users.list_users(
            session,
            q=q,
            employee_id=employee_id,
            disabled=disabled,
            sort=sort,
            cursor=cursor,
            limit=limit,
        )
    return Page[UserOut](
        items=[UserOut.model_validate(user) for user in page.items], next_cursor=page.next_cursor
    )


@router.get("/{user_id}", summary="One user", responses={404: {"description": "No such user"}})
async def get_user(
    user_id: uuid.UUID, _access: ReadAccess, identity: IdentityDep, response: Response
) -> UserOut:
    async with identity.sessions() as session:
        user = await users.get_user(session, user_id)
    return _respond(response, user)


@router.patch(
    "/{user_id}",
    summary="Change roles, employee, password; disable or enable a user",
    responses={
        404: {"description": "No such user"},
        409: {
            "description": "Disabling yourself, disabling or demoting the last enabled "
            "administrator, the OIDC subject is taken, or linking or enabling a user of an "
            "employee who has left"
        },
        412: {"description": "If-Match names an older version"},
    },
)
async def update_user(
    user_id: uuid.UUID,
    body: UserUpdate,
    access: UpdateAccess,
    identity: IdentityDep,
    response: Response,
    if_match: IfMatch = None,
) -> UserOut:
    async with identity.sessions.begin() as session:
        user = await users.update_user(
            session,
            identity.passwords,
            user_id,
            body.model_dump(exclude_unset=True),
            expected_version(if_match),
            acting_user_id=access.principal.user_id,
        )
    if "disabled" in body.model_fields_set:
        identity.disabled.forget()
    return _respond(response, user)
