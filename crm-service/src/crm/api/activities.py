"""`/activities`: calls, emails, meetings, notes and visits logged on a customer, lead or
opportunity."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from crm.adapters.service_desk import Activity
from crm.api.deps import UnitOfWorkDep
from crm.service import activities
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.json_types import JsonNumber, Moment
from shared_schemas.http.pagination import Cursor, Limit, Page, range_from, range_to
from shared_schemas.http.patch import NotNull
from shared_schemas.http.text import Words
from shared_schemas.identity import Access, Authorize

router = APIRouter(prefix="/activities", tags=["activities"])

ReadAccess = Annotated[Access, Depends(Authorize("crm", "activities", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("crm", "activities", "create"))]
UpdateAccess = Annotated[Access, Depends(Authorize("crm", "activities", "update"))]
DeleteAccess = Annotated[Access, Depends(Authorize("crm", "activities", "delete"))]

Kind = Literal["call", "email", "meeting", "note", "visit"]


def _in_utc(moment: datetime) -> datetime:
    # Stored and read back in UTC: the answer to a write shows what every read shows.
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 is past the last UTC year
        raise ValueError("must be a time from year 1 to 9999 in UTC") from None


UtcMoment = Annotated[Moment, AfterValidator(_in_utc)]
Subject = Annotated[Words, Field(max_length=300)]
Body = Annotated[str, Field(max_length=20_000)]


class Location(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"latitude": 52.520008, "longitude": 13.404954}]},
    )

    latitude: JsonNumber = Field(ge=-90, le=90, description="Degrees, stored to six decimals.")
    longitude: JsonNumber = Field(ge=-180, le=180, description="Degrees, stored to six decimals.")


class ActivityCreate(BaseModel):
    """Name exactly one of `customer_id`, `lead_id`, `opportunity_id`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "visit",
                    "subject": "Site visit: line 3 retrofit",
                    "body": "Measured the hall; they want a proposal by Friday.",
                    "occurred_at": "2026-11-19T10:00:00+01:00",
                    "customer_id": "0b6f2f4e-3c1a-4f57-9a52-2f0f6a0f3b11",
                    "location": {"latitude": 52.520008, "longitude": 13.404954},
                }
            ]
        },
    )

    kind: Kind
    subject: Subject
    body: Body | None = None
    occurred_at: UtcMoment | None = Field(
        default=None, description="With a time zone; defaults to now."
    )
    customer_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    opportunity_id: uuid.UUID | None = None
    location: Location | None = None


class ActivityUpdate(BaseModel):
    """Fields to change; what the activity is about stays as logged. Null removes `body`
    or `location` (null for `kind`, `subject` or `occurred_at` is a 422)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"body": "They want the proposal by Thursday."}]},
    )

    kind: Annotated[Kind | None, NotNull] = None
    subject: Annotated[Subject | None, NotNull] = None
    body: Body | None = None
    occurred_at: Annotated[UtcMoment | None, NotNull] = None
    location: Location | None = Field(default=None, description="null removes it.")


class ActivityOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3e0c9b7a-6d5f-4a1b-9c2d-8e7f6a5b4c3d",
                    "kind": "visit",
                    "subject": "Site visit: line 3 retrofit",
                    "body": "Measured the hall; they want a proposal by Friday.",
                    "occurred_at": "2026-11-19T09:00:00Z",
                    "customer_id": "0b6f2f4e-3c1a-4f57-9a52-2f0f6a0f3b11",
                    "lead_id": None,
                    "opportunity_id": None,
                    "location": {"latitude": 52.520008, "longitude": 13.404954},
                    "owner_id": "d0000000-0000-4000-8000-000000000002",
                    "author": "user-sales",
                    "version": 1,
                    "created_at": "2026-11-19T09:05:00Z",
                    "updated_at": "2026-11-19T09:05:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    kind: str
    subject: str
    body: str | None
    occurred_at: datetime
    customer_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    opportunity_id: uuid.UUID | None
    location: Location | None
    owner_id: uuid.UUID | None = Field(description="The employee who logged it.")
    author: str = Field(description="The user who logged it (or the service).")
    version: int
    created_at: datetime
    updated_at: datetime


def activity_out(activity: Activity) -> ActivityOut:
    location = None
    if activity.latitude is not None and activity.longitude is not None:
        location = Location(latitude=float(activity.latitude), longitude=float(activity.longitude))
    return ActivityOut.model_validate(
        {
            **{
                name: getattr(activity, name)
                for name in ActivityOut.model_fields
                if name != "location"
            },
            "location": location,
        }
    )


def _respond(response: Response, activity: Activity) -> ActivityOut:
    set_etag(response, activity.version)
    return activity_out(activity)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Log an activity",
    responses={422: {"description": "Not exactly one target, or the target does not exist"}},
)
async def log_activity(
    body: ActivityCreate, access: CreateAccess, uow: UnitOfWorkDep, response: Response
) -> ActivityOut:
    activity = await activities.log_activity(uow, access, body.model_dump(exclude_unset=True))
    response.headers["Location"] = f"/activities/{activity.id}"
    return _respond(response, activity)


@router.get("", summary="List activities")
async def list_activities(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[
        str | None,
        Query(description="`occurred_at` (default `-occurred_at`), `created_at`; `-` descends."),
    ] = None,
    kind: Annotated[list[Kind] | None, Query()] = None,
    customer_id: uuid.UUID | None = None,
    lead_id: uuid.UUID | None = None,
    opportunity_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
    occurred_from: Annotated[datetime | None, range_from("occurred_from", "occurred")] = None,
    occurred_to: Annotated[datetime | None, range_to("occurred_to", "occurred")] = None,
) -> Page[ActivityOut]:
    filters = activities.ActivityFilters(
        kinds=list(kind or []),
        customer_id=customer_id,
        lead_id=lead_id,
        opportunity_id=opportunity_id,
        owner_id=owner_id,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
    async with uow:
        page = await activities.list_activities(uow.session, filters, sort, cursor, limit)
    return Page[ActivityOut](
        items=[activity_out(a) for a in page.items], next_cursor=page.next_cursor
    )


@router.get("/{activity_id}", summary="One activity")
async def get_activity(
    activity_id: uuid.UUID, _access: ReadAccess, uow: UnitOfWorkDep, response: Response
) -> ActivityOut:
    async with uow:
        activity = await activities.get_activity(uow.session, activity_id)
    return _respond(response, activity)


@router.patch(
    "/{activity_id}",
    summary="Change an activity (sales: only their own)",
    responses={412: {"description": "If-Match names an older version"}},
)
async def update_activity(
    activity_id: uuid.UUID,
    body: ActivityUpdate,
    access: UpdateAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> ActivityOut:
    changes = body.model_dump(exclude_unset=True)
    activity = await activities.update_activity(
        uow, access, activity_id, changes, expected_version(if_match)
    )
    return _respond(response, activity)


@router.delete(
    "/{activity_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an activity (sales: only their own)",
    responses={412: {"description": "If-Match names an older version"}},
)
async def delete_activity(
    activity_id: uuid.UUID,
    access: DeleteAccess,
    uow: UnitOfWorkDep,
    if_match: IfMatch = None,
) -> Response:
    await activities.delete_activity(uow, access, activity_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
