"""`/api/webhooks`: subscriptions of other systems to business events, their delivery log
and replays (admin only). How receivers verify a delivery: docs/webhooks.md."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, JsonValue
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.adapters.events import WebhookSubscription
from gateway.adapters.webhook_sender import TargetPolicy
from gateway.config import Settings
from gateway.service import webhooks
from gateway.service.webhook_secrets import secret_box_for
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.json_types import JsonBool, Moment
from shared_schemas.http.pagination import Cursor, Limit, Page
from shared_schemas.http.patch import NotNull
from shared_schemas.identity import Access, Authorize

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])

ReadAccess = Annotated[Access, Depends(Authorize("gateway", "webhooks", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("gateway", "webhooks", "create"))]
UpdateAccess = Annotated[Access, Depends(Authorize("gateway", "webhooks", "update"))]
DeleteAccess = Annotated[Access, Depends(Authorize("gateway", "webhooks", "delete"))]
ReplayAccess = Annotated[Access, Depends(Authorize("gateway", "webhooks", "replay"))]

Url = Annotated[str, Field(min_length=1, max_length=2000, examples=["https://hooks.example/crm"])]
EventTypes = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200)]],
    Field(
        min_length=1,
        max_length=100,
        description="Exact event types (`erp.order.shipped.v1`), `<prefix>.*` "
        "(`erp.order.*`, `crm.*`) or `*`.",
    ),
]
Description = Annotated[str, Field(max_length=500)]
DeliveryStatus = Literal["pending", "delivered", "failed", "dead"]

_EXAMPLE: dict[str, JsonValue] = {
    "id": "3f7c2a9e-5b1d-4c8e-9f0a-1b2c3d4e5f60",
    "url": "https://hooks.example/crm",
    "event_types": ["erp.order.*", "erp.invoice.paid.v1"],
    "description": "Fulfilment partner",
    "active": True,
    "disabled_reason": None,
    "disabled_at": None,
    "consecutive_failures": 0,
    "created_by": "user-admin",
    "version": 1,
    "created_at": "2026-11-30T09:00:00Z",
    "updated_at": "2026-11-30T09:00:00Z",
}


class WebhookCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.example/crm",
                    "event_types": ["erp.order.*", "erp.invoice.paid.v1"],
                    "description": "Fulfilment partner",
                }
            ]
        },
    )

    url: Url
    event_types: EventTypes
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="The key of the signatures; generated when left out. Shown only in "
        "this response.",
    )
    description: Description | None = None


class WebhookUpdate(BaseModel):
    """Fields to change; those left out stay as they are and null removes the description
    (null for any other field is a 422). `active: true` enables a disabled subscription
    again (its failure count starts afresh)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"active": True}]})

    url: Annotated[Url | None, NotNull] = None
    event_types: Annotated[EventTypes | None, NotNull] = None
    description: Description | None = None
    active: Annotated[JsonBool | None, NotNull] = None


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_EXAMPLE]})

    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str | None
    active: bool
    disabled_reason: str | None = Field(description="Why it stopped (410, failures, an admin).")
    disabled_at: datetime | None
    consecutive_failures: int = Field(description="Permanent failures in a row.")
    created_by: str
    version: int
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [{**_EXAMPLE, "secret": "whsec_Jx2…"}]},
    )

    secret: str = Field(description="The signing secret. It is never shown again.")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d",
                    "subscription_id": "3f7c2a9e-5b1d-4c8e-9f0a-1b2c3d4e5f60",
                    "event_id": "5d1c3e1a-8a7e-4a0e-9a53-0c6a4f3b2d10",
                    "event_type": "erp.order.shipped.v1",
                    "status": "pending",
                    "attempts": 2,
                    "next_attempt_at": "2026-11-30T09:01:10Z",
                    "last_attempt_at": "2026-11-30T09:00:40Z",
                    "last_status_code": 503,
                    "last_response": "Service Unavailable",
                    "last_error": None,
                    "created_at": "2026-11-30T09:00:00Z",
                    "finished_at": None,
                }
            ]
        },
    )

    id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_response: str | None = Field(description="The start of the receiver's last answer.")
    last_error: str | None = Field(description="Why the last attempt got no answer, if so.")
    created_at: datetime
    finished_at: datetime | None


class Replay(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"since": "2026-11-30T08:00:00Z"}]}
    )

    since: Moment = Field(description="Events the gateway received from then on.")


class ReplayQueued(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"queued": 42, "history_from": "2026-11-23T08:00:00Z"}]}
    )

    queued: int = Field(description="Deliveries queued.")
    history_from: datetime | None = Field(
        description="When the oldest event the gateway still holds was received (null: it "
        "holds none). A `since` before it replays from there: older events are gone."
    )


def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return sessions


def _policy(request: Request) -> TargetPolicy:
    settings: Settings = request.app.state.settings
    return TargetPolicy(settings.webhook_allowed_private_hosts)


def _respond(response: Response, subscription: WebhookSubscription) -> WebhookOut:
    set_etag(response, subscription.version)
    return WebhookOut.model_validate(subscription)


_REFUSED_TARGET: dict[int | str, dict[str, Any]] = {
    422: {"description": "Unknown event types, or a target that is not public"}
}
_UNKNOWN: dict[int | str, dict[str, Any]] = {404: {"description": "No such subscription"}}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe a URL to business events",
    responses=_REFUSED_TARGET,
)
async def create_webhook(
    body: WebhookCreate, access: CreateAccess, request: Request, response: Response
) -> WebhookCreated:
    settings: Settings = request.app.state.settings
    subscription, secret = await webhooks.subscribe(
        _sessions(request),
        _policy(request),
        secret_box_for(settings),
        access.principal.actor,
        webhooks.NewSubscription(body.url, body.event_types, body.secret, body.description),
    )
    response.headers["Location"] = f"/api/webhooks/{subscription.id}"
    # It holds the secret: no cache keeps it, nor the Idempotency-Key store.
    response.headers["Cache-Control"] = "no-store"
    set_etag(response, subscription.version)
    shown = WebhookOut.model_validate(subscription)
    return WebhookCreated(**shown.model_dump(), secret=secret)


@router.get("", summary="List webhook subscriptions, newest first")
async def list_webhooks(
    _access: ReadAccess,
    request: Request,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[
        str | None, Query(description="`created_at`; prefix `-` for descending (default).")
    ] = None,
    active: Annotated[bool | None, Query(description="Only active or disabled ones.")] = None,
) -> Page[WebhookOut]:
    page = await webhooks.list_subscriptions(
        _sessions(request), active=active, sort=sort, cursor=cursor, limit=limit
    )
    return Page[WebhookOut](
        items=[WebhookOut.model_validate(s) for s in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{webhook_id}", summary="One webhook subscription (never its secret)", responses=_UNKNOWN
)
async def get_webhook(
    webhook_id: uuid.UUID, _access: ReadAccess, request: Request, response: Response
) -> WebhookOut:
    return _respond(response, await webhooks.find_subscription(_sessions(request), webhook_id))


@router.patch(
    "/{webhook_id}",
    summary="Change a subscription, disable or enable it",
    responses={
        **_REFUSED_TARGET,
        **_UNKNOWN,
        412: {"description": "If-Match names an older version"},
    },
)
async def update_webhook(
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
    _access: UpdateAccess,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> WebhookOut:
    subscription = await webhooks.change_subscription(
        _sessions(request),
        _policy(request),
        webhook_id,
        body.model_dump(exclude_unset=True),
        expected_version(if_match),
    )
    return _respond(response, subscription)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a subscription and its delivery log",
    responses=_UNKNOWN,
)
async def delete_webhook(webhook_id: uuid.UUID, _access: DeleteAccess, request: Request) -> None:
    await webhooks.unsubscribe(_sessions(request), webhook_id)


@router.get(
    "/{webhook_id}/deliveries", summary="The delivery log, newest first", responses=_UNKNOWN
)
async def list_deliveries(
    webhook_id: uuid.UUID,
    _access: ReadAccess,
    request: Request,
    limit: Limit = 50,
    cursor: Cursor = None,
    status_: Annotated[list[DeliveryStatus] | None, Query(alias="status")] = None,
) -> Page[DeliveryOut]:
    page = await webhooks.list_deliveries(
        _sessions(request),
        webhook_id,
        webhooks.DeliveryFilters(statuses=list(status_ or [])),
        cursor,
        limit,
    )
    return Page[DeliveryOut](
        items=[DeliveryOut.model_validate(d) for d in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/{webhook_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Deliver again the events received since a point in time",
    responses={**_UNKNOWN, 409: {"description": "The subscription is disabled"}},
)
async def replay_webhook(
    webhook_id: uuid.UUID, body: Replay, _access: ReplayAccess, request: Request
) -> ReplayQueued:
    replayed = await webhooks.replay(_sessions(request), webhook_id, body.since)
    return ReplayQueued(queued=replayed.queued, history_from=replayed.history_from)
