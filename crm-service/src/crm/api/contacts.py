"""`/customers/{customer_id}/contacts`: the people to talk to at a customer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from crm.api.deps import UnitOfWorkDep
from crm.service import contacts
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.json_types import JsonBool
from shared_schemas.http.pagination import Cursor, Limit, Page
from shared_schemas.http.patch import NotNull
from shared_schemas.http.text import Words
from shared_schemas.identity import Access, Authorize

router = APIRouter(prefix="/customers/{customer_id}/contacts", tags=["customers"])

ReadAccess = Annotated[Access, Depends(Authorize("crm", "contacts", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("crm", "contacts", "create"))]
UpdateAccess = Annotated[Access, Depends(Authorize("crm", "contacts", "update"))]
DeleteAccess = Annotated[Access, Depends(Authorize("crm", "contacts", "delete"))]


class ContactCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Jana Novak",
                    "email": "jana.novak@acme.example",
                    "phone": "+49 30 555",
                    "title": "Head of Purchasing",
                    "is_primary": True,
                }
            ]
        },
    )

    name: Words = Field(max_length=200)
    email: EmailStr | None = None
    phone: Words | None = Field(default=None, max_length=50)
    title: str | None = Field(default=None, max_length=100)
    is_primary: JsonBool = Field(default=False, description="At most one primary contact.")


class ContactUpdate(BaseModel):
    """Fields to change; those left out stay as they are and null removes an optional one
    (null for `name` or `is_primary` is a 422)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"title": "CFO"}]})

    name: Annotated[Words | None, NotNull] = Field(default=None, max_length=200)
    email: EmailStr | None = None
    phone: Words | None = Field(default=None, max_length=50)
    title: str | None = Field(default=None, max_length=100)
    is_primary: Annotated[JsonBool | None, NotNull] = None


class ContactOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "9d5c1c7e-4b1a-4a57-8f3e-0c2b7d4e5f61",
                    "customer_id": "0b6f2f4e-3c1a-4f57-9a52-2f0f6a0f3b11",
                    "name": "Jana Novak",
                    "email": "jana.novak@acme.example",
                    "phone": "+49 30 555",
                    "title": "Head of Purchasing",
                    "is_primary": True,
                    "version": 1,
                    "created_at": "2026-11-02T09:31:00Z",
                    "updated_at": "2026-11-02T09:31:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    customer_id: uuid.UUID
    name: str
    email: str | None
    phone: str | None
    title: str | None
    is_primary: bool
    version: int
    created_at: datetime
    updated_at: datetime


@router.get("", summary="List and search a customer's contacts, the primary one first")
async def list_contacts(
    customer_id: uuid.UUID,
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[
        str | None,
        Query(
            description="`primary` (the default: the primary contact first, then by name), "
            "`name`, `created_at`; prefix `-` for descending."
        ),
    ] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Prefix of the name or email.")
    ] = None,
) -> Page[ContactOut]:
    async with uow:
        page = await contacts.list_contacts(uow.session, customer_id, q, sort, cursor, limit)
    return Page[ContactOut](
        items=[ContactOut.model_validate(contact) for contact in page.items],
        next_cursor=page.next_cursor,
    )


ARCHIVED_CUSTOMER: dict[int | str, dict[str, Any]] = {
    409: {"description": "The customer is archived: restore it first"}
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a contact",
    responses=ARCHIVED_CUSTOMER,
)
async def add_contact(
    customer_id: uuid.UUID,
    body: ContactCreate,
    access: CreateAccess,
    uow: UnitOfWorkDep,
    response: Response,
) -> ContactOut:
    contact = await contacts.add_contact(uow, access, customer_id, body.model_dump())
    set_etag(response, contact.version)
    response.headers["Location"] = f"/customers/{customer_id}/contacts/{contact.id}"
    return ContactOut.model_validate(contact)


@router.get("/{contact_id}", summary="One contact")
async def get_contact(
    customer_id: uuid.UUID,
    contact_id: uuid.UUID,
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    response: Response,
) -> ContactOut:
    async with uow:
        contact = await contacts.get_contact(uow.session, customer_id, contact_id)
    set_etag(response, contact.version)
    return ContactOut.model_validate(contact)


@router.patch(
    "/{contact_id}",
    summary="Change a contact",
    responses={**ARCHIVED_CUSTOMER, 412: {"description": "If-Match names an older version"}},
)
async def change_contact(
    customer_id: uuid.UUID,
    contact_id: uuid.UUID,
    body: ContactUpdate,
    access: UpdateAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> ContactOut:
    contact = await contacts.change_contact(
        uow,
        access,
        customer_id,
        contact_id,
        body.model_dump(exclude_unset=True),
        expected_version(if_match),
    )
    set_etag(response, contact.version)
    return ContactOut.model_validate(contact)


@router.delete(
    "/{contact_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a contact",
    responses={**ARCHIVED_CUSTOMER, 412: {"description": "If-Match names an older version"}},
)
async def remove_contact(
    customer_id: uuid.UUID,
    contact_id: uuid.UUID,
    access: DeleteAccess,
    uow: UnitOfWorkDep,
    if_match: IfMatch = None,
) -> None:
    await contacts.remove_contact(uow, access, customer_id, contact_id, expected_version(if_match))
