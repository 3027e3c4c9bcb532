"""Use cases of opportunities: create, change, move through the pipeline, win, lose, list."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.customers import Customer
from crm.adapters.pipeline import (
    CLOSE_ASCENDING,
    CLOSE_DESCENDING,
    NO_CLOSE_ASCENDING,
    NO_CLOSE_DESCENDING,
    Opportunity,
)
from crm.adapters.quotes import Quote
from crm.domain.opportunities import (
    CLOSED_STAGES,
    OPEN_STAGES,
    PIPELINE,
    probability_for,
)
from crm.domain.staff import OWNER_ROLES
from crm.service.customers import check_version, require_unarchived
from crm.service.staff import default_assignee, require_eligible
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.domain import Conflict, NotFound, RuleViolation
from shared_schemas.events.crm.opportunities import (
    OpportunityLost,
    OpportunityStageChanged,
    OpportunityWon,
)
from shared_schemas.http.pagination import Page
from shared_schemas.identity import Access
from shared_schemas.listing import Listing, SortKey, normalise, prefix_match

LISTING = Listing(
    fields={
        "created_at": SortKey(Opportunity.created_at, datetime),
        "name": SortKey(Opportunity.name_key),
        "amount": SortKey(Opportunity.amount, Decimal),
        "expected_close_date": SortKey(CLOSE_ASCENDING, date),
    },
    id_column=Opportunity.id,
)
# Deals without an expected close date come last both ways, so descending sorts by a key
# of its own (the shared listing has one key per field).
_CLOSE_DESCENDING = Listing(
    fields={"expected_close_date": SortKey(CLOSE_DESCENDING, date)}, id_column=Opportunity.id
)


@dataclass(frozen=True)
class OpportunityFilters:
    q: str | None = None
    stages: list[str] = field(default_factory=list)
    owner_ids: list[uuid.UUID] = field(default_factory=list)
    customer_ids: list[uuid.UUID] = field(default_factory=list)
    created_from: datetime | None = None
    created_to: datetime | None = None
    close_from: date | None = None
    close_to: date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None


async def get_opportunity(
    session: AsyncSession, opportunity_id: uuid.UUID, *, lock: bool = False
) -> Opportunity:
    """The opportunity; `lock` holds its row until the transaction ends."""
    opportunity = await session.get(Opportunity, opportunity_id, with_for_update=lock or None)
    if opportunity is None:
        raise NotFound("opportunity", opportunity_id)
    return opportunity


async def create_opportunity(
    uow: UnitOfWork, access: Access, values: Mapping[str, Any]
) -> Opportunity:
    async with uow:
        return await add_opportunity(uow, access, values)


async def add_opportunity(
    uow: UnitOfWork, access: Access, values: Mapping[str, Any], *, field_prefix: str = ""
) -> Opportunity:
    """`create_opportunity` inside a unit of work that is already open (lead conversion).

    No event: the opportunity topic has none for creation; its first event is its first
    stage change. `field_prefix` names where the values came from in error messages.
    """
    access.require_fields({k: v for k, v in values.items() if v is not None})
    session = uow.session
    data = dict(values)
    currency = data.get("currency") or uow.settings.company.currency
    _require_company_currency(uow, currency, field_prefix)
    await _require_active_customer(session, data["customer_id"], field_prefix)
    if data.get("owner_id") is None:
        data["owner_id"] = await default_assignee(session, uow.principal, OWNER_ROLES)
    else:
        await require_eligible(session, data["owner_id"], OWNER_ROLES, f"{field_prefix}owner_id")
    stage = data.get("stage") or OPEN_STAGES[0]
    opportunity = Opportunity(
        id=uuid.uuid4(),
        name=data["name"],
        name_key=normalise(data["name"]) or "",
        customer_id=data["customer_id"],
        lead_id=data.get("lead_id"),
        stage=stage,
        amount=data["amount"],
        currency=currency,
        probability=probability_for(stage, data.get("probability")),
        expected_close_date=data.get("expected_close_date"),
        owner_id=data["owner_id"],
    )
    session.add(opportunity)
    await session.flush()
    return opportunity


async def update_opportunity(
    uow: UnitOfWork,
    access: Access,
    opportunity_id: uuid.UUID,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> Opportunity:
    """Change the deal's terms while it is open; its stage moves only through the stage
    routes. No event: the opportunity topic publishes stage changes and outcomes only."""
    async with uow:
        session = uow.session
        opportunity = await get_opportunity(session, opportunity_id)
        check_version(opportunity.version, expected_version)
        access.require_owner(opportunity.owner_id)
        access.require_fields(changes)
        if opportunity.stage in CLOSED_STAGES:
            raise Conflict(
                f"A {opportunity.stage} opportunity is final and cannot be changed.",
                current_status=opportunity.stage,
                allowed=[],
            )
        await require_unarchived(session, opportunity.customer_id, "opportunity", opportunity.stage)
        # Check everything before changing anything: a lookup would flush a half-done change.
        owner_id, customer_id = changes.get("owner_id"), changes.get("customer_id")
        if owner_id is not None and owner_id != opportunity.owner_id:
            await require_eligible(session, owner_id, OWNER_ROLES, "owner_id")
        if customer_id is not None and customer_id != opportunity.customer_id:
            await _require_active_customer(session, customer_id, "")
            await _require_no_quotes(session, opportunity.id)
        if changes.get("currency") is not None:
            _require_company_currency(uow, changes["currency"], "")
        for name, value in changes.items():
            if name == "currency":
                continue  # the one currency there is
            setattr(opportunity, name, value)
        opportunity.name_key = normalise(opportunity.name) or ""
        await session.flush()
    return opportunity


async def move_stage(
    uow: UnitOfWork,
    access: Access,
    opportunity_id: uuid.UUID,
    stage: str,
    probability: int | None,
    expected_version: int | None,
) -> Opportunity:
    """Move an open deal to another open stage, forward or back."""
    async with uow:
        opportunity = await _changeable(uow, access, opportunity_id, expected_version)
        previous = opportunity.stage
        opportunity.stage = PIPELINE.next(previous, stage)
        opportunity.probability = probability_for(opportunity.stage, probability)
        await uow.session.flush()
        await uow.record(OpportunityStageChanged(previous_stage=previous, **_state(opportunity)))
    return opportunity


async def win_opportunity(
    uow: UnitOfWork, access: Access, opportunity_id: uuid.UUID, expected_version: int | None
) -> Opportunity:
    async with uow:
        opportunity = await _changeable(uow, access, opportunity_id, expected_version)
        await _win(uow, opportunity, quote_id=None)
    return opportunity


async def lose_opportunity(
    uow: UnitOfWork,
    access: Access,
    opportunity_id: uuid.UUID,
    reason: str,
    expected_version: int | None,
) -> Opportunity:
    async with uow:
        opportunity = await _changeable(uow, access, opportunity_id, expected_version)
        previous = opportunity.stage
        opportunity.stage = PIPELINE.next(previous, "lose")
        opportunity.probability = probability_for(opportunity.stage, None)
        opportunity.loss_reason = reason
        opportunity.closed_at = uow.now()
        await uow.session.flush()
        await uow.record(
            OpportunityLost(previous_stage=previous, reason=reason, **_state(opportunity))
        )
    return opportunity


async def win_for_accepted_quote(
    uow: UnitOfWork, opportunity_id: uuid.UUID, quote_id: uuid.UUID
) -> None:
    """A quote of the opportunity was accepted: the deal is won. Runs inside the already
    open unit of work of the acceptance; a deal won already stays as it is, a lost one
    cannot be won by a quote (Conflict). Locked before its stage is read: a second quote
    of the deal accepted meanwhile then finds it won, instead of failing on its version."""
    opportunity = await get_opportunity(uow.session, opportunity_id, lock=True)
    if opportunity.stage == "won":
        return
    await _win(uow, opportunity, quote_id=quote_id)


async def list_opportunities(
    session: AsyncSession,
    filters: OpportunityFilters,
    sort: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Opportunity]:
    conditions = []
    if filters.q:
        conditions.append(prefix_match(Opportunity.name_key, filters.q))
    if filters.stages:
        conditions.append(Opportunity.stage.in_(filters.stages))
    if filters.owner_ids:
        conditions.append(Opportunity.owner_id.in_(filters.owner_ids))
    if filters.customer_ids:
        conditions.append(Opportunity.customer_id.in_(filters.customer_ids))
    if filters.created_from:
        conditions.append(Opportunity.created_at >= filters.created_from)
    if filters.created_to:
        conditions.append(Opportunity.created_at < filters.created_to)
    if filters.close_from is not None:
        conditions.append(Opportunity.expected_close_date >= filters.close_from)
    if filters.close_to is not None:
        conditions.append(Opportunity.expected_close_date <= filters.close_to)
    if filters.amount_min is not None:
        conditions.append(Opportunity.amount >= filters.amount_min)
    if filters.amount_max is not None:
        conditions.append(Opportunity.amount <= filters.amount_max)
    query = select(Opportunity).where(and_(*conditions)) if conditions else select(Opportunity)
    if sort == "-expected_close_date":
        listing, no_date = _CLOSE_DESCENDING, NO_CLOSE_DESCENDING
    else:
        listing, no_date = LISTING, NO_CLOSE_ASCENDING
    rows = list(await session.scalars(listing.apply(query, sort, cursor, limit)))
    if (sort or "").lstrip("-") != "expected_close_date":
        return listing.page(rows, limit, sort)
    return listing.page(
        rows, limit, sort, key_of=lambda o: (o.expected_close_date or no_date, o.id)
    )


async def _changeable(
    uow: UnitOfWork, access: Access, opportunity_id: uuid.UUID, expected_version: int | None
) -> Opportunity:
    opportunity = await get_opportunity(uow.session, opportunity_id)
    check_version(opportunity.version, expected_version)
    access.require_owner(opportunity.owner_id)
    if opportunity.stage not in CLOSED_STAGES:  # a final deal says so first
        await require_unarchived(
            uow.session, opportunity.customer_id, "opportunity", opportunity.stage
        )
    return opportunity


async def _win(uow: UnitOfWork, opportunity: Opportunity, quote_id: uuid.UUID | None) -> None:
    previous = opportunity.stage
    opportunity.stage = PIPELINE.next(previous, "win")
    opportunity.probability = probability_for(opportunity.stage, None)
    opportunity.closed_at = uow.now()
    await uow.session.flush()
    await uow.record(
        OpportunityWon(previous_stage=previous, quote_id=quote_id, **_state(opportunity))
    )


def _state(opportunity: Opportunity) -> dict[str, Any]:
    """The fields every opportunity event carries, after the change."""
    return {
        "version": opportunity.version,
        "opportunity_id": opportunity.id,
        "name": opportunity.name,
        "customer_id": opportunity.customer_id,
        "owner_id": opportunity.owner_id,
        "amount": opportunity.amount,
        "currency": opportunity.currency,
        "probability": opportunity.probability,
        "expected_close_date": opportunity.expected_close_date,
        "stage": opportunity.stage,
    }


def _require_company_currency(uow: UnitOfWork, currency: str, field_prefix: str) -> None:
    company = uow.settings.company.currency
    if currency != company:
        raise RuleViolation(
            f"Opportunities are in the company currency ({company}) until multi-currency lands.",
            [{"field": f"{field_prefix}currency", "message": f"must be {company}"}],
        )


async def _require_no_quotes(session: AsyncSession, opportunity_id: uuid.UUID) -> None:
    """A deal's quotes are for its customer: one with quotes keeps its customer."""
    quoted = await session.scalar(
        select(Quote.id).where(Quote.opportunity_id == opportunity_id).limit(1)
    )
    if quoted is not None:
        raise Conflict(
            "The opportunity has quotes for its customer, so its customer cannot change; "
            "open a new opportunity for the other customer."
        )


async def _require_active_customer(
    session: AsyncSession, customer_id: uuid.UUID, field_prefix: str
) -> None:
    customer = await session.get(Customer, customer_id)
    if customer is None or customer.archived_at is not None:
        problem = "no such customer" if customer is None else "the customer is archived"
        raise RuleViolation(
            f"An opportunity needs an active customer; {problem}.",
            [{"field": f"{field_prefix}customer_id", "message": problem}],
        )
