"""The operations routes every service with an outbox gets: `/admin/dead-letters` (what
its consumer gave up on, and replaying it) and `/admin/outbox` (its backlog, and
republishing what a broker lost)."""

# No `from __future__ import annotations`: FastAPI must see the dependencies built from
# the router factory's arguments, which string annotations would hide.
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from shared_schemas.database import READ_ONLY
from shared_schemas.http.json_types import Moment
from shared_schemas.http.pagination import (
    Cursor,
    Limit,
    Page,
    decode_cursor,
    invalid_cursor,
    page_of,
)
from shared_schemas.http.problems import Problem
from shared_schemas.identity.dependencies import Access, Authorize
from shared_schemas.messaging.dead_letters import NotReplayable, UnknownDeadLetter
from shared_schemas.messaging.relay import republish
from shared_schemas.messaging.workers import Workers

Status = Literal["pending", "applied", "duplicate", "superseded"]
MAX_ID = 2**63 - 1  # ids are BIGINT


class DeadLetterOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 17,
                    "consumer_group": "crm-service",
                    "topic": "erp.order",
                    "partition": 2,
                    "offset": 4711,
                    "key": "5b1f8c9e-2d47-4a36-9a0e-6c2f0e4b7a10",
                    "event_id": "0e8b2f4c-77a1-4d2b-9c1e-3f5a6b7c8d90",
                    "event_type": "erp.order.shipped.v1",
                    "reason": "failed",
                    "error": "RuntimeError: quote 42 is locked",
                    "attempts": 5,
                    "failed_at": "2026-11-24T08:15:00Z",
                    "status": "pending",
                    "replayed_at": None,
                    "replay_error": None,
                }
            ]
        }
    )

    id: int
    consumer_group: str
    topic: str
    partition: int
    offset: int
    key: str | None
    event_id: str | None
    event_type: str | None
    reason: Literal["malformed", "invalid", "failed"]
    error: str
    attempts: int
    failed_at: datetime
    status: Status
    replayed_at: datetime | None
    replay_error: str | None


class ReplayOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 17, "outcome": "applied"}]})

    id: int
    outcome: Literal["applied", "duplicate", "superseded"]


class OutboxOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "pending": 3,
                    "oldest_pending_at": "2026-11-24T08:14:58Z",
                    "oldest_pending_age_seconds": 2.4,
                    "oldest_kept_at": "2026-11-17T09:00:00Z",
                }
            ]
        }
    )

    pending: int = Field(description="Events recorded and not yet published.")
    oldest_pending_at: datetime | None = Field(
        description="When the oldest unpublished event was recorded (null: none pending)."
    )
    oldest_pending_age_seconds: float = Field(
        description="How long the oldest unpublished event has waited (0 when none)."
    )
    oldest_kept_at: datetime | None = Field(
        description="The oldest event still in the outbox: republishing reaches back to here."
    )


class RepublishIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"since": "2026-11-24T08:00:00+01:00"}]}
    )

    since: Moment = Field(
        description="Every event recorded at or after this time is published again "
        "(RFC 3339 with an offset; not in the future)."
    )


class RepublishOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"republished": 1250}]})

    republished: int = Field(description="Published events marked pending again.")


def operations_router(service: str, workers: Workers) -> APIRouter:
    """Every operations route of a service: dead letters and outbox (admin only)."""
    router = APIRouter()
    router.include_router(_dead_letters(service, workers))
    router.include_router(outbox_router(service, workers))
    return router


def outbox_router(service: str, workers: Workers) -> APIRouter:
    router = APIRouter(prefix="/admin/outbox", tags=["operations"])
    engine, outbox = workers.engine, workers.tables.outbox

    @router.get("", summary="This service's outbox: backlog and how far back it reaches")
    async def outbox_state(
        _access: Annotated[Access, Depends(Authorize(service, "outbox", "read"))],
    ) -> OutboxOut:
        pending = outbox.c.published_at.is_(None)
        async with engine.connect() as connection:
            reader = await connection.execution_options(**READ_ONLY)
            async with reader.begin():
                row = (
                    await reader.execute(
                        select(
                            func.count().filter(pending),
                            func.min(outbox.c.created_at).filter(pending),
                            func.min(outbox.c.created_at),
                        )
                    )
                ).one()
        count, oldest_pending, oldest_kept = row[0], _utc(row[1]), _utc(row[2])
        age = 0.0
        if oldest_pending is not None:
            age = max(0.0, (datetime.now(UTC) - oldest_pending).total_seconds())
        return OutboxOut(
            pending=int(count or 0),
            oldest_pending_at=oldest_pending,
            oldest_pending_age_seconds=round(age, 3),
            oldest_kept_at=oldest_kept,
        )

    @router.post(
        "/republish",
        summary="Publish again every event recorded since a time (after a broker lost them)",
        responses={422: {"description": "`since` missing, without an offset, or in the future"}},
    )
    async def republish_since(
        body: RepublishIn,
        _access: Annotated[Access, Depends(Authorize(service, "outbox", "republish"))],
    ) -> RepublishOut:
        # SQLite keeps times without their offset (as UTC, which is what is recorded).
        try:
            since = body.since.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first UTC year
            raise _invalid_since("must be a time from year 1 to 9999 in UTC") from None
        if since > datetime.now(UTC):
            raise _invalid_since("must not be in the future")
        return RepublishOut(republished=await republish(engine, outbox, since))

    return router


def _invalid_since(message: str) -> Problem:
    return Problem(
        422,
        "The request is not valid.",
        kind="validation-error",
        title="Validation error",
        errors=[{"field": "since", "message": message}],
    )


def _is_id(value: object) -> bool:
    """Whether `value` can be a dead letter's id (a positive 64-bit integer, not a bool)."""
    return type(value) is int and 0 < value <= MAX_ID


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)  # SQLite returns naive values for aware columns


def _dead_letters(service: str, workers: Workers) -> APIRouter:
    router = APIRouter(prefix="/admin/dead-letters", tags=["operations"])
    dead_letters = workers.dead_letter_log()
    applier = workers.applier()

    @router.get("", summary="Dead letters of this service's consumer, newest first")
    async def list_dead_letters(
        _access: Annotated[Access, Depends(Authorize(service, "dead-letters", "read"))],
        limit: Limit = 50,
        cursor: Cursor = None,
        status: Annotated[list[Status] | None, Query()] = None,
    ) -> Page[DeadLetterOut]:
        key = decode_cursor(cursor)
        if key is not None and (len(key) != 1 or not _is_id(key[0])):
            raise invalid_cursor()
        rows = await dead_letters.page(
            limit=limit, after_id=key[0] if key else None, status=list(status or [])
        )
        items = [DeadLetterOut.model_validate(row) for row in rows]
        return page_of(items, limit, lambda item: [item.id])

    @router.post(
        "/{letter_id}/replay",
        summary="Apply a dead letter now (exactly once, through the inbox)",
        responses={404: {"description": "No such dead letter"}, 409: {"description": "Fails"}},
    )
    async def replay_dead_letter(
        letter_id: int,
        _access: Annotated[Access, Depends(Authorize(service, "dead-letters", "replay"))],
    ) -> ReplayOut:
        try:
            if not _is_id(letter_id):  # past what the database can hold: none has it
                raise UnknownDeadLetter(letter_id)
            outcome = await dead_letters.replay(letter_id, applier)
        except UnknownDeadLetter:
            raise Problem(404, f"There is no dead letter {letter_id}.") from None
        except NotReplayable as exc:
            detail = f"The dead letter cannot be applied: {exc}"
            raise Problem(409, detail, kind="conflict") from exc
        return ReplayOut(id=letter_id, outcome=outcome.value)

    return router
