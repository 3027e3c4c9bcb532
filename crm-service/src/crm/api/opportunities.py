"""`/opportunities`: deals in the sales pipeline, from prospecting to won or lost."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from crm.adapters.pipeline import Opportunity
from crm.api.deps import UnitOfWorkDep
from crm.service import opportunities
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.json_types import Day, JsonInt
from shared_schemas.http.pagination import CreatedFrom, CreatedTo, Cursor, Limit, Page
from shared_schemas.http.patch import NotNull
from shared_schemas.http.text import Words
from shared_schemas.identity import Access, Authorize
from shared_schemas.money import Currency, Money
from shared_schemas.pricing import MAX_AMOUNT

router = APIRouter(prefix="/opportunities", tags=["opportunities"])

ReadAccess = Annotated[Access, Depends(Authorize("crm", "opportunities", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("crm", "opportunities", "create"))]
UpdateAccess = Annotated[Access, Depends(Authorize("crm", "opportunities", "update"))]
StageAccess = Annotated[Access, Depends(Authorize("crm", "opportunities", "stage"))]
WinAccess = Annotated[Access, Depends(Authorize("crm", "opportunities", "win"))]
LoseAccess = Annotated[Access, Depends(Authorize("crm", "opportunities", "lose"))]

OpenStage = Literal["prospecting", "qualification", "proposal", "negotiation"]
Stage = Literal["prospecting", "qualification", "proposal", "negotiation", "won", "lost"]
Name = Annotated[Words, Field(max_length=200)]
Probability = Annotated[JsonInt, Field(ge=0, le=100, description="Chance of winning, in percent.")]

_PROBABILITY_DEFAULTS = (
    "Defaults to the stage's: prospecting 10, qualification 20, proposal 50, negotiation 75."
)


class OpportunityCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Acme: 40 pallets racking",
                    "customer_id": "0b6f2f4e-3c1a-4f57-9a52-2f0f6a0f3b11",
                    "amount": "12000.00",
                    "currency": "EUR",
                    "expected_close_date": "2026-12-15",
                }
            ]
        },
    )

    name: Name
    customer_id: uuid.UUID = Field(description="An active customer.")
    amount: Money = Field(ge=0, le=MAX_AMOUNT, description="Expected revenue.")
    currency: Currency | None = Field(default=None, description="The company currency.")
    stage: OpenStage = "prospecting"
    probability: Probability | None = Field(default=None, description=_PROBABILITY_DEFAULTS)
    expected_close_date: Day | None = None
    owner_id: uuid.UUID | None = Field(
        default=None, description="The owning sales rep; defaults to you if you may own it."
    )


class OpportunityUpdate(BaseModel):
    """Terms to change while the deal is open; those left out stay as they are and null
    removes `expected_close_date` or `owner_id` (null for any other term is a 422). The
    stage moves through `/stage`, `/win` and `/lose`, never here."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"amount": "15000.00", "probability": 60}]},
    )

    name: Annotated[Name | None, NotNull] = None
    customer_id: Annotated[uuid.UUID | None, NotNull] = None
    amount: Annotated[Money | None, NotNull] = Field(default=None, ge=0, le=MAX_AMOUNT)
    currency: Annotated[Currency | None, NotNull] = None
    probability: Annotated[Probability | None, NotNull] = None
    expected_close_date: Day | None = None
    owner_id: uuid.UUID | None = None


class StageMove(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"stage": "proposal"}]}
    )

    stage: OpenStage = Field(description="Another open stage; use /win or /lose to close.")
    probability: Probability | None = Field(default=None, description=_PROBABILITY_DEFAULTS)


class Loss(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "Chose a cheaper supplier"}]}
    )

    reason: Words = Field(max_length=500)


class OpportunityOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "7e0d8a44-0f4b-4f0e-8a4c-1b2c3d4e5f60",
                    "name": "Acme: 40 pallets racking",
                    "customer_id": "0b6f2f4e-3c1a-4f57-9a52-2f0f6a0f3b11",
                    "lead_id": None,
                    "stage": "proposal",
                    "amount": "12000.00",
                    "currency": "EUR",
                    "probability": 50,
                    "expected_close_date": "2026-12-15",
                    "owner_id": "d0000000-0000-4000-8000-000000000002",
                    "loss_reason": None,
                    "closed_at": None,
                    "version": 2,
                    "created_at": "2026-11-02T09:30:00Z",
                    "updated_at": "2026-11-20T14:05:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    name: str
    customer_id: uuid.UUID
    lead_id: uuid.UUID | None = Field(description="The lead whose conversion opened it.")
    stage: Stage
    amount: Money
    currency: str
    probability: int
    expected_close_date: date | None
    owner_id: uuid.UUID | None
    loss_reason: str | None
    closed_at: datetime | None = Field(description="When it was won or lost.")
    version: int
    created_at: datetime
    updated_at: datetime


def _respond(response: Response, opportunity: Opportunity) -> OpportunityOut:
    set_etag(response, opportunity.version)
    return OpportunityOut.model_validate(opportunity)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Open an opportunity",
    responses={403: {"description": "A field your role may not set (named in `errors`)"}},
)
async def create_opportunity(
    body: OpportunityCreate, access: CreateAccess, uow: UnitOfWorkDep, response: Response
) -> OpportunityOut:
    values = body.model_dump(exclude_unset=True)
    values["name"], values["customer_id"], values["amount"] = (
        body.name,
        body.customer_id,
        body.amount,
    )
    opportunity = await opportunities.create_opportunity(uow, access, values)
    response.headers["Location"] = f"/opportunities/{opportunity.id}"
    return _respond(response, opportunity)


@router.get("", summary="List and search opportunities")
async def list_opportunities(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[
        str | None,
        Query(
            description="`created_at` (default `-created_at`), `name`, `amount`, "
            "`expected_close_date` (deals without one last, both ways); prefix `-` for "
            "descending. Equal values in the order of their ids."
        ),
    ] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Prefix of the name.")
    ] = None,
    stage: Annotated[list[Stage] | None, Query()] = None,
    owner_id: Annotated[list[uuid.UUID] | None, Query()] = None,
    customer_id: Annotated[list[uuid.UUID] | None, Query()] = None,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
    expected_close_from: Annotated[
        Day | None,
        Query(description="Deals expected to close on or after this day (YYYY-MM-DD)."),
    ] = None,
    expected_close_to: Annotated[
        Day | None,
        Query(description="Deals expected to close on or before this day (YYYY-MM-DD)."),
    ] = None,
    amount_min: Annotated[
        Money | None,
        Query(ge=0, le=MAX_AMOUNT, description="Deals of at least this amount."),
    ] = None,
    amount_max: Annotated[
        Money | None,
        Query(ge=0, le=MAX_AMOUNT, description="Deals of at most this amount."),
    ] = None,
) -> Page[OpportunityOut]:
    """A close date range leaves out deals without an expected close date."""
    filters = opportunities.OpportunityFilters(
        q=q,
        stages=list(stage or []),
        owner_ids=owner_id or [],
        customer_ids=customer_id or [],
        created_from=created_from,
        created_to=created_to,
        close_from=expected_close_from,
        close_to=expected_close_to,
        amount_min=amount_min,
        amount_max=amount_max,
    )
    async with uow:
        page = await opportunities.list_opportunities(uow.session, filters, sort, cursor, limit)
    return Page[OpportunityOut](
        items=[OpportunityOut.model_validate(o) for o in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/{opportunity_id}", summary="One opportunity")
async def get_opportunity(
    opportunity_id: uuid.UUID, _access: ReadAccess, uow: UnitOfWorkDep, response: Response
) -> OpportunityOut:
    async with uow:
        opportunity = await opportunities.get_opportunity(uow.session, opportunity_id)
    return _respond(response, opportunity)


@router.patch(
    "/{opportunity_id}",
    summary="Change an open opportunity's terms",
    responses={
        409: {"description": "The opportunity is won or lost"},
        412: {"description": "If-Match names an older version"},
    },
)
async def update_opportunity(
    opportunity_id: uuid.UUID,
    body: OpportunityUpdate,
    access: UpdateAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> OpportunityOut:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    opportunity = await opportunities.update_opportunity(
        uow, access, opportunity_id, changes, expected_version(if_match)
    )
    return _respond(response, opportunity)


@router.post(
    "/{opportunity_id}/stage",
    summary="Move an open opportunity to another open stage",
    responses={409: {"description": "The opportunity is won or lost, or already there"}},
)
async def move_stage(
    opportunity_id: uuid.UUID,
    body: StageMove,
    access: StageAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> OpportunityOut:
    opportunity = await opportunities.move_stage(
        uow, access, opportunity_id, body.stage, body.probability, expected_version(if_match)
    )
    return _respond(response, opportunity)


@router.post(
    "/{opportunity_id}/win",
    summary="Mark an open opportunity won (final)",
    responses={409: {"description": "The opportunity is won or lost already"}},
)
async def win_opportunity(
    opportunity_id: uuid.UUID,
    access: WinAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> OpportunityOut:
    opportunity = await opportunities.win_opportunity(
        uow, access, opportunity_id, expected_version(if_match)
    )
    return _respond(response, opportunity)


@router.post(
    "/{opportunity_id}/lose",
    summary="Mark an open opportunity lost, with the reason (final)",
    responses={409: {"description": "The opportunity is won or lost already"}},
)
async def lose_opportunity(
    opportunity_id: uuid.UUID,
    body: Loss,
    access: LoseAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> OpportunityOut:
    opportunity = await opportunities.lose_opportunity(
        uow, access, opportunity_id, body.reason, expected_version(if_match)
    )
    return _respond(response, opportunity)
