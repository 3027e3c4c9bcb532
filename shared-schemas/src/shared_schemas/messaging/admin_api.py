"""`/admin/dead-letters`: list what a service's consumer gave up on, and replay it."""

# No `from __future__ import annotations`: FastAPI must see the dependencies built from
# the router factory's arguments, which string annotations would hide.
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from shared_schemas.http.pagination import Cursor, Limit, Page, decode_cursor, page_of
from shared_schemas.http.problems import Problem
from shared_schemas.identity.dependencies import Access, Authorize
from shared_schemas.messaging.dead_letters import NotReplayable, UnknownDeadLetter
from shared_schemas.messaging.workers import Workers

Status = Literal["pending", "applied", "duplicate", "superseded"]


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


def dead_letters_router(service: str, workers: Workers) -> APIRouter:
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
        if key is not None and not isinstance(key[0], int):
            raise Problem(422, "The cursor is not valid.", kind="validation-error")
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
            outcome = await dead_letters.replay(letter_id, applier)
        except UnknownDeadLetter:
            raise Problem(404, f"There is no dead letter {letter_id}.") from None
        except NotReplayable as exc:
            detail = f"The dead letter cannot be applied: {exc}"
            raise Problem(409, detail, kind="conflict") from exc
        return ReplayOut(id=letter_id, outcome=outcome.value)

    return router
