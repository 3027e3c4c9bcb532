"""Use cases of leads: capture, change, contact, qualify, disqualify, convert, list."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.customers import Customer
from crm.adapters.pipeline import Lead
from crm.domain.leads import FINAL_STATUSES, LIFECYCLE, default_customer
from crm.domain.staff import OWNER_ROLES, is_eligible
from crm.service.customer_creation import add_customer
from crm.service.customers import check_version
from crm.service.opportunities import add_opportunity
from crm.service.staff import default_assignee, member, require_eligible
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.domain import Conflict, NotFound, RuleViolation
from shared_schemas.events.crm.leads import (
    LeadConverted,
    LeadCreated,
    LeadDisqualified,
    LeadQualified,
)
from shared_schemas.http.pagination import Page
from shared_schemas.identity import Access, Authorize
from shared_schemas.listing import Listing, SortKey, normalise, prefix_match

LISTING = Listing(
    fields={
        "created_at": SortKey(Lead.created_at, datetime),
        "name": SortKey(Lead.name_key),
        "updated_at": SortKey(Lead.updated_at, datetime),
    },
    id_column=Lead.id,
)

# Converting may create records of other resources: the caller needs their rights too.
_CREATE_CUSTOMERS = Authorize("crm", "customers", "create")
_CREATE_OPPORTUNITIES = Authorize("crm", "opportunities", "create")


@dataclass(frozen=True)
class LeadFilters:
    q: str | None = None
    statuses: list[str] = field(default_factory=list)
    owner_ids: list[uuid.UUID] = field(default_factory=list)
    created_from: datetime | None = None
    created_to: datetime | None = None
    sources: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Conversion:
    """What a lead becomes: a linked customer or a new one (fields over the lead's own),
    and optionally an opportunity for that customer."""

    customer_id: uuid.UUID | None = None
    customer: Mapping[str, Any] = field(default_factory=dict)
    opportunity: Mapping[str, Any] | None = None
    force: bool = False


async def get_lead(session: AsyncSession, lead_id: uuid.UUID) -> Lead:
    lead = await session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("lead", lead_id)
    return lead


async def create_lead(uow: UnitOfWork, access: Access, values: Mapping[str, Any]) -> Lead:
    async with uow:
        access.require_fields({k: v for k, v in values.items() if v is not None})
        session = uow.session
        owner_id = values.get("owner_id")
        if owner_id is None:
            owner_id = await default_assignee(session, uow.principal, OWNER_ROLES)
        else:
            await require_eligible(session, owner_id, OWNER_ROLES, "owner_id")
        lead = Lead(
            id=uuid.uuid4(),
            name=values["name"],
            company_name=values.get("company_name"),
            email=values.get("email"),
            phone=values.get("phone"),
            source=values.get("source"),
            notes=values.get("notes"),
            status="new",
            owner_id=owner_id,
        )
        _index_search_keys(lead)
        session.add(lead)
        await session.flush()
        await uow.record(
            LeadCreated(
                version=lead.version,
                lead_id=lead.id,
                owner_id=lead.owner_id,
                name=lead.name,
                company_name=lead.company_name,
                email=lead.email,
                phone=lead.phone,
                source=lead.source,
                status="new",
            )
        )
    return lead


async def update_lead(
    uow: UnitOfWork,
    access: Access,
    lead_id: uuid.UUID,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> Lead:
    """Change an open lead's details; its status moves only through the transition routes.
    No event: the lead topic has none for edits."""
    async with uow:
        session = uow.session
        lead = await _changeable(uow, access, lead_id, expected_version)
        access.require_fields(changes)
        if lead.status in FINAL_STATUSES:
            raise Conflict(
                f"A {lead.status} lead is final and cannot be changed.",
                current_status=lead.status,
                allowed=[],
            )
        owner_id = changes.get("owner_id")
        if owner_id is not None and owner_id != lead.owner_id:
            await require_eligible(session, owner_id, OWNER_ROLES, "owner_id")
        for name, value in changes.items():
            setattr(lead, name, value)
        _index_search_keys(lead)
        await session.flush()
    return lead


async def contact_lead(
    uow: UnitOfWork, access: Access, lead_id: uuid.UUID, expected_version: int | None
) -> Lead:
    """First contact made. The lead topic has no event for it, so none is published."""
    async with uow:
        lead = await _changeable(uow, access, lead_id, expected_version)
        lead.status = LIFECYCLE.next(lead.status, "contact")
        await uow.session.flush()
    return lead


async def qualify_lead(
    uow: UnitOfWork, access: Access, lead_id: uuid.UUID, expected_version: int | None
) -> Lead:
    async with uow:
        lead = await _changeable(uow, access, lead_id, expected_version)
        previous = lead.status
        lead.status = LIFECYCLE.next(previous, "qualify")
        await uow.session.flush()
        await uow.record(
            LeadQualified(
                version=lead.version,
                lead_id=lead.id,
                owner_id=lead.owner_id,
                previous_status=previous,
            )
        )
    return lead


async def disqualify_lead(
    uow: UnitOfWork,
    access: Access,
    lead_id: uuid.UUID,
    reason: str,
    expected_version: int | None,
) -> Lead:
    async with uow:
        lead = await _changeable(uow, access, lead_id, expected_version)
        previous = lead.status
        lead.status = LIFECYCLE.next(previous, "disqualify")
        lead.disqualification_reason = reason
        await uow.session.flush()
        await uow.record(
            LeadDisqualified(
                version=lead.version,
                lead_id=lead.id,
                owner_id=lead.owner_id,
                previous_status=previous,
                reason=reason,
            )
        )
    return lead


async def convert_lead(
    uow: UnitOfWork,
    access: Access,
    lead_id: uuid.UUID,
    conversion: Conversion,
    expected_version: int | None,
) -> Lead:
    """Turn the lead into a customer (linked or created) and, if asked, an opportunity,
    all in one transaction: when any part fails, nothing is written and nothing published."""
    async with uow:
        session = uow.session
        lead = await _changeable(uow, access, lead_id, expected_version)
        previous = lead.status
        converted = LIFECYCLE.next(previous, "convert")
        # What the lead becomes stays with its owner, unless they may no longer hold it.
        owner_id = lead.owner_id
        if owner_id is not None and not is_eligible(await member(session, owner_id), OWNER_ROLES):
            owner_id = None
        if conversion.customer_id is not None:
            customer = await _linkable_customer(session, conversion.customer_id)
            created = False
        else:
            values = {
                **default_customer(
                    lead.name,
                    lead.company_name,
                    lead.email,
                    lead.phone,
                    conversion.customer.get("kind"),
                ),
                "owner_id": owner_id,
                **conversion.customer,
            }
            customer = await add_customer(
                uow, await _CREATE_CUSTOMERS(access.principal), values, force=conversion.force
            )
            created = True
        opportunity_id = None
        if conversion.opportunity is not None:
            opportunity = await add_opportunity(
                uow,
                await _CREATE_OPPORTUNITIES(access.principal),
                {
                    **conversion.opportunity,
                    "customer_id": customer.id,
                    "owner_id": owner_id,
                    "lead_id": lead.id,
                },
                field_prefix="opportunity.",
            )
            opportunity_id = opportunity.id
        lead.status = converted
        lead.customer_id = customer.id
        lead.opportunity_id = opportunity_id
        lead.converted_at = uow.now()
        await session.flush()
        await uow.record(
            LeadConverted(
                version=lead.version,
                lead_id=lead.id,
                owner_id=lead.owner_id,
                previous_status=previous,
                customer_id=customer.id,
                customer_created=created,
                opportunity_id=opportunity_id,
            )
        )
    return lead


async def list_leads(
    session: AsyncSession, filters: LeadFilters, sort: str | None, cursor: str | None, limit: int
) -> Page[Lead]:
    conditions: list[ColumnElement[bool]] = []
    if filters.statuses:
        conditions.append(Lead.status.in_(filters.statuses))
    if filters.owner_ids:
        conditions.append(Lead.owner_id.in_(filters.owner_ids))
    if filters.sources:
        conditions.append(Lead.source.in_(filters.sources))
    if filters.created_from:
        conditions.append(Lead.created_at >= filters.created_from)
    if filters.created_to:
        conditions.append(Lead.created_at < filters.created_to)
    query = select(Lead).where(and_(*conditions)) if conditions else select(Lead)
    if filters.q:
        searched = [
            prefix_match(column, filters.q)
            for column in (Lead.name_key, Lead.company_key, Lead.email_key)
        ]
        query = LISTING.apply_any_of(query, searched, sort, cursor, limit)
    else:
        query = LISTING.apply(query, sort, cursor, limit)
    rows = list(await session.scalars(query))
    return LISTING.page(rows, limit, sort)


async def _changeable(
    uow: UnitOfWork, access: Access, lead_id: uuid.UUID, expected_version: int | None
) -> Lead:
    lead = await get_lead(uow.session, lead_id)
    check_version(lead.version, expected_version)
    access.require_owner(lead.owner_id)
    return lead


async def _linkable_customer(session: AsyncSession, customer_id: uuid.UUID) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None or customer.archived_at is not None:
        problem = "no such customer" if customer is None else "the customer is archived"
        raise RuleViolation(
            f"A lead converts into an active customer; {problem}.",
            [{"field": "customer_id", "message": problem}],
        )
    return customer


def _index_search_keys(lead: Lead) -> None:
    lead.name_key = normalise(lead.name) or ""
    lead.company_key = normalise(lead.company_name)
    lead.email_key = normalise(lead.email)
