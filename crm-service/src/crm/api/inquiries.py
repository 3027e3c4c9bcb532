"""`/inquiries`: support cases of customers, with their SLA and life cycle."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from crm.adapters.service_desk import Inquiry
from crm.api.deps import UnitOfWorkDep
from crm.domain.inquiries import is_overdue
from crm.service import inquiries
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.pagination import CreatedFrom, CreatedTo, Cursor, Limit, Page
from shared_schemas.http.patch import NotNull
from shared_schemas.http.text import Words
from shared_schemas.identity import Access, Authorize

router = APIRouter(prefix="/inquiries", tags=["inquiries"])

ReadAccess = Annotated[Access, Depends(Authorize("crm", "inquiries", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("crm", "inquiries", "create"))]
UpdateAccess = Annotated[Access, Depends(Authorize("crm", "inquiries", "update"))]
OpenAccess = Annotated[Access, Depends(Authorize("crm", "inquiries", "open"))]
PendAccess = Annotated[Access, Depends(Authorize("crm", "inquiries", "pend"))]
ResumeAccess = Annotated[Access, Depends(Authorize("crm", "inquiries", "resume"))]
ResolveAccess = Annotated[Access, Depends(Authorize("crm", "inquiries", "resolve"))]
ReopenAccess = Annotated[Access, Depends(Authorize("crm", "inquiries", "reopen"))]
CloseAccess = Annotated[Access, Depends(Authorize("crm", "inquiries", "close"))]

Channel = Literal["email", "phone", "web", "chat", "in_person"]
Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["new", "open", "pending", "resolved", "closed"]
Subject = Annotated[Words, Field(max_length=300)]
Body = Annotated[str, Field(max_length=20_000)]


class InquiryCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "channel": "email",
                    "subject": "Delivery arrived damaged",
                    "body": "Two of the five units have cracked housings.",
                    "priority": "high",
                    "customer_id": "0b6f2f4e-3c1a-4f57-9a52-2f0f6a0f3b11",
                    "order_id": "5a1c7e22-9d0b-4c55-8f0e-6b7d3c2a1f90",
                }
            ]
        },
    )

    channel: Channel
    subject: Subject
    body: Body | None = None
    priority: Priority = Field(
        default="normal", description="Sets the SLA due time (hours per priority)."
    )
    customer_id: uuid.UUID
    order_id: uuid.UUID | None = Field(default=None, description="The ERP order it is about.")
    assignee_id: uuid.UUID | None = Field(
        default=None,
        description="An active support or sales employee; defaults to you if you may be one.",
    )


class InquiryUpdate(BaseModel):
    """Fields to change; those left out stay as they are and null removes an optional one
    (null for `subject` or `priority` is a 422). The status changes only through the
    transition routes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"priority": "urgent", "assignee_id": None}]},
    )

    subject: Annotated[Subject | None, NotNull] = None
    body: Body | None = None
    priority: Annotated[Priority | None, NotNull] = Field(
        default=None, description="While unresolved, the SLA due time follows."
    )
    assignee_id: uuid.UUID | None = Field(default=None, description="null unassigns.")
    order_id: uuid.UUID | None = None


class Resolution(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"resolution": "Replacement units shipped."}]},
    )

    resolution: Words = Field(max_length=5_000, description="How it was resolved.")


class InquiryOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "9c4d6b1e-2f3a-4e5b-8c7d-1a2b3c4d5e6f",
                    "channel": "email",
                    "subject": "Delivery arrived damaged",
                    "body": "Two of the five units have cracked housings.",
                    "priority": "high",
                    "status": "open",
                    "customer_id": "0b6f2f4e-3c1a-4f57-9a52-2f0f6a0f3b11",
                    "order_id": "5a1c7e22-9d0b-4c55-8f0e-6b7d3c2a1f90",
                    "assignee_id": "d0000000-0000-4000-8000-000000000004",
                    "sla_due_at": "2026-11-20T17:30:00Z",
                    "overdue": False,
                    "resolved_at": None,
                    "resolution": None,
                    "closed_at": None,
                    "version": 2,
                    "created_at": "2026-11-20T09:30:00Z",
                    "updated_at": "2026-11-20T09:41:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    channel: str
    subject: str
    body: str | None
    priority: str
    status: Status
    customer_id: uuid.UUID
    order_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    sla_due_at: datetime = Field(description="created_at + the SLA hours of the priority.")
    overdue: bool = Field(description="Unresolved and past sla_due_at.")
    resolved_at: datetime | None
    resolution: str | None
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


def inquiry_out(inquiry: Inquiry, now: datetime) -> InquiryOut:
    return InquiryOut.model_validate(
        {
            **{
                name: getattr(inquiry, name)
                for name in InquiryOut.model_fields
                if name != "overdue"
            },
            "overdue": is_overdue(inquiry.status, inquiry.sla_due_at, now),
        }
    )


def _respond(response: Response, inquiry: Inquiry) -> InquiryOut:
    set_etag(response, inquiry.version)
    return inquiry_out(inquiry, datetime.now(UTC))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Open an inquiry for a customer",
    responses={422: {"description": "Unknown customer, or an assignee who may not hold it"}},
)
async def create_inquiry(
    body: InquiryCreate, access: CreateAccess, uow: UnitOfWorkDep, response: Response
) -> InquiryOut:
    inquiry = await inquiries.create_inquiry(uow, access, body.model_dump())
    response.headers["Location"] = f"/inquiries/{inquiry.id}"
    return _respond(response, inquiry)


@router.get("", summary="List and search inquiries")
async def list_inquiries(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[
        str | None,
        Query(
            description="`created_at` (default `-created_at`), `sla_due_at`, `priority` (by "
            "the scale low, normal, high, urgent: `-priority` lists urgent first); `-` "
            "descends. Equal values in the order of their ids."
        ),
    ] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Prefix of the subject.")
    ] = None,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    customer_id: uuid.UUID | None = None,
    assignee_id: uuid.UUID | None = None,
    order_id: uuid.UUID | None = None,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
    overdue: Annotated[
        bool | None, Query(description="true: unresolved and past sla_due_at; false: not.")
    ] = None,
) -> Page[InquiryOut]:
    filters = inquiries.InquiryFilters(
        q=q,
        statuses=list(status_ or []),
        priorities=list(priority or []),
        customer_id=customer_id,
        assignee_id=assignee_id,
        order_id=order_id,
        created_from=created_from,
        created_to=created_to,
        overdue=overdue,
    )
    now = datetime.now(UTC)
    async with uow:
        page = await inquiries.list_inquiries(uow.session, filters, now, sort, cursor, limit)
    return Page[InquiryOut](
        items=[inquiry_out(i, now) for i in page.items], next_cursor=page.next_cursor
    )


@router.get("/{inquiry_id}", summary="One inquiry")
async def get_inquiry(
    inquiry_id: uuid.UUID, _access: ReadAccess, uow: UnitOfWorkDep, response: Response
) -> InquiryOut:
    async with uow:
        inquiry = await inquiries.get_inquiry(uow.session, inquiry_id)
    return _respond(response, inquiry)


@router.patch(
    "/{inquiry_id}",
    summary="Change an inquiry",
    responses={
        409: {"description": "The inquiry is closed"},
        412: {"description": "If-Match names an older version"},
    },
)
async def update_inquiry(
    inquiry_id: uuid.UUID,
    body: InquiryUpdate,
    access: UpdateAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> InquiryOut:
    changes = body.model_dump(exclude_unset=True)
    inquiry = await inquiries.update_inquiry(
        uow, access, inquiry_id, changes, expected_version(if_match)
    )
    return _respond(response, inquiry)


_MOVED: dict[int | str, dict[str, Any]] = {
    409: {"description": "Not allowed from the current status (`current_status`, `allowed`)"}
}


@router.post("/{inquiry_id}/open", summary="Start working on a new inquiry", responses=_MOVED)
async def open_inquiry(
    inquiry_id: uuid.UUID,
    access: OpenAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> InquiryOut:
    inquiry = await inquiries.transition_inquiry(
        uow, access, inquiry_id, "open", expected_version(if_match)
    )
    return _respond(response, inquiry)


@router.post("/{inquiry_id}/pend", summary="Wait for the customer", responses=_MOVED)
async def pend_inquiry(
    inquiry_id: uuid.UUID,
    access: PendAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> InquiryOut:
    inquiry = await inquiries.transition_inquiry(
        uow, access, inquiry_id, "pend", expected_version(if_match)
    )
    return _respond(response, inquiry)


@router.post("/{inquiry_id}/resume", summary="Work on a pending inquiry again", responses=_MOVED)
async def resume_inquiry(
    inquiry_id: uuid.UUID,
    access: ResumeAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> InquiryOut:
    inquiry = await inquiries.transition_inquiry(
        uow, access, inquiry_id, "resume", expected_version(if_match)
    )
    return _respond(response, inquiry)


@router.post(
    "/{inquiry_id}/resolve",
    summary="Resolve an inquiry (publishes crm.inquiry.resolved.v1)",
    responses=_MOVED,
)
async def resolve_inquiry(
    inquiry_id: uuid.UUID,
    body: Resolution,
    access: ResolveAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> InquiryOut:
    inquiry = await inquiries.transition_inquiry(
        uow, access, inquiry_id, "resolve", expected_version(if_match), resolution=body.resolution
    )
    return _respond(response, inquiry)


@router.post("/{inquiry_id}/reopen", summary="Reopen a resolved inquiry", responses=_MOVED)
async def reopen_inquiry(
    inquiry_id: uuid.UUID,
    access: ReopenAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> InquiryOut:
    inquiry = await inquiries.transition_inquiry(
        uow, access, inquiry_id, "reopen", expected_version(if_match)
    )
    return _respond(response, inquiry)


@router.post("/{inquiry_id}/close", summary="Close a resolved inquiry (final)", responses=_MOVED)
async def close_inquiry(
    inquiry_id: uuid.UUID,
    access: CloseAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> InquiryOut:
    inquiry = await inquiries.transition_inquiry(
        uow, access, inquiry_id, "close", expected_version(if_match)
    )
    return _respond(response, inquiry)
