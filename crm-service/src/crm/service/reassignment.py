"""When an employee leaves: each open record they hold goes to their manager if the
manager may hold it, else to nobody; each move is recorded as an activity (design.md §5).
A sweep finds what the termination could not: records whose creation checked their owner
just before the termination committed, and committed just after its reassignment."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.adapters.customers import Customer
from crm.adapters.pipeline import Lead, Opportunity
from crm.adapters.quotes import Quote
from crm.adapters.replicas import EmployeeReplica
from crm.adapters.service_desk import Activity, Inquiry
from crm.config import Settings
from crm.domain.staff import ASSIGNEE_ROLES, OWNER_ROLES, is_eligible
from crm.service.customers import record_owner_change
from crm.service.staff import member
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.messaging import PeriodicJob

OPEN_LEADS = ("new", "contacted", "qualified")
OPEN_OPPORTUNITIES = ("prospecting", "qualification", "proposal", "negotiation")
OPEN_QUOTES = ("draft", "sent")
OPEN_INQUIRIES = ("new", "open", "pending")
LEFTOVER_INTERVAL = timedelta(minutes=5)


@dataclass(frozen=True)
class Reassigned:
    kind: str
    record_id: uuid.UUID
    to: uuid.UUID | None


async def reassign_open_records(uow: UnitOfWork, leaver: EmployeeReplica) -> list[Reassigned]:
    session = uow.session
    manager = await member(session, leaver.manager_id)
    owner_heir = leaver.manager_id if is_eligible(manager, OWNER_ROLES) else None
    assignee_heir = leaver.manager_id if is_eligible(manager, ASSIGNEE_ROLES) else None
    moved: list[Reassigned] = []

    customers = await session.scalars(
        select(Customer).where(Customer.owner_id == leaver.id, Customer.archived_at.is_(None))
    )
    for customer in customers:
        await record_owner_change(uow, customer, owner_heir)
        _note(uow, leaver, owner_heir, "customer", customer.name, customer_id=customer.id)
        moved.append(Reassigned("customer", customer.id, owner_heir))

    leads = await session.scalars(
        select(Lead).where(Lead.owner_id == leaver.id, Lead.status.in_(OPEN_LEADS))
    )
    for lead in leads:
        lead.owner_id = owner_heir
        _note(uow, leaver, owner_heir, "lead", lead.name, lead_id=lead.id)
        moved.append(Reassigned("lead", lead.id, owner_heir))

    opportunities = await session.scalars(
        select(Opportunity).where(
            Opportunity.owner_id == leaver.id, Opportunity.stage.in_(OPEN_OPPORTUNITIES)
        )
    )
    for opportunity in opportunities:
        opportunity.owner_id = owner_heir
        _note(
            uow,
            leaver,
            owner_heir,
            "opportunity",
            opportunity.name,
            opportunity_id=opportunity.id,
            customer_id=opportunity.customer_id,
        )
        moved.append(Reassigned("opportunity", opportunity.id, owner_heir))

    quotes = await session.scalars(
        select(Quote).where(Quote.owner_id == leaver.id, Quote.status.in_(OPEN_QUOTES))
    )
    for quote in quotes:
        quote.owner_id = owner_heir
        _note(
            uow,
            leaver,
            owner_heir,
            "quote",
            quote.number,
            customer_id=quote.customer_id,
            opportunity_id=quote.opportunity_id,
        )
        moved.append(Reassigned("quote", quote.id, owner_heir))

    inquiries = await session.scalars(
        select(Inquiry).where(Inquiry.assignee_id == leaver.id, Inquiry.status.in_(OPEN_INQUIRIES))
    )
    for inquiry in inquiries:
        inquiry.assignee_id = assignee_heir
        _note(
            uow, leaver, assignee_heir, "inquiry", inquiry.subject, customer_id=inquiry.customer_id
        )
        moved.append(Reassigned("inquiry", inquiry.id, assignee_heir))
    await session.flush()
    return moved


def _holds_open_records(employee_id: Any) -> ColumnElement[bool]:
    """Whether the employee still holds a record their leaving hands on."""
    return or_(
        select(Customer.id)
        .where(Customer.owner_id == employee_id, Customer.archived_at.is_(None))
        .exists(),
        select(Lead.id).where(Lead.owner_id == employee_id, Lead.status.in_(OPEN_LEADS)).exists(),
        select(Opportunity.id)
        .where(Opportunity.owner_id == employee_id, Opportunity.stage.in_(OPEN_OPPORTUNITIES))
        .exists(),
        select(Quote.id)
        .where(Quote.owner_id == employee_id, Quote.status.in_(OPEN_QUOTES))
        .exists(),
        select(Inquiry.id)
        .where(Inquiry.assignee_id == employee_id, Inquiry.status.in_(OPEN_INQUIRIES))
        .exists(),
    )


async def reassign_leftovers(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> list[Reassigned]:
    """Open records still held by employees who have left, reassigned as their leaving
    would have. A request that found its owner active commits its record even when the
    termination commits in between, after the termination's search for open records; no
    lock between the two, so no lock order to keep, and this closes the gap within
    `LEFTOVER_INTERVAL`."""
    uow = UnitOfWork(sessions, settings)
    async with uow:
        leavers = await uow.session.scalars(
            select(EmployeeReplica).where(
                EmployeeReplica.status == "terminated", _holds_open_records(EmployeeReplica.id)
            )
        )
        moved: list[Reassigned] = []
        for leaver in leavers.all():
            moved += await reassign_open_records(uow, leaver)
    return moved


def periodic_jobs(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> list[PeriodicJob]:
    """The reassignment sweep for the service's job runner."""
    return [
        PeriodicJob(
            "reassign-leftovers", LEFTOVER_INTERVAL, partial(reassign_leftovers, sessions, settings)
        )
    ]


# The most of a record's name or subject a reassignment note's subject repeats.
NOTE_LABEL_LENGTH = 150


def _note(
    uow: UnitOfWork,
    leaver: EmployeeReplica,
    heir: uuid.UUID | None,
    kind: str,
    label: str,
    **links: Any,
) -> None:
    target = f"to their manager ({heir})" if heir else "to nobody (no eligible manager)"
    if len(label) > NOTE_LABEL_LENGTH:  # a long inquiry subject; the note's subject has 300
        label = label[: NOTE_LABEL_LENGTH - 1] + "…"
    uow.session.add(
        Activity(
            id=uuid.uuid4(),
            kind="note",
            subject=f"{kind.capitalize()} {label} reassigned {target}",
            body=f"{leaver.name} ({leaver.id}) left the company; their open {kind} moved {target}.",
            occurred_at=uow.now(),
            owner_id=heir,
            author="crm-service",
            **links,
        )
    )
