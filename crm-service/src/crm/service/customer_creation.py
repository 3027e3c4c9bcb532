"""Creating customers, one or many at once: the API's concurrent creations share a
transaction (group commit), lead conversion creates one inside its own.

Set-based on purpose: for a batch of any size, one read finds the owners who may own
customers and the custom-field stamp, one read finds existing duplicates, one INSERT
writes the rows and one the events. A refusal (duplicate, ineligible owner, bad custom
field) fails its own request only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.adapters.customers import Customer, CustomerTag, CustomFieldValue
from crm.adapters.replicas import EmployeeReplica
from crm.config import Settings
from crm.domain.customers import (
    FieldDefinition,
    check_custom_fields,
    match_key,
    normalise_tags,
    typed_value,
)
from crm.domain.staff import OWNER_ROLES
from crm.service import custom_fields
from crm.service.customers import customer_state, index_search_keys, stored_address
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.batching import GroupCommit
from shared_schemas.database import column_values
from shared_schemas.domain import DomainError, Duplicate, RuleViolation
from shared_schemas.events.base import EventData
from shared_schemas.events.crm.customers import CustomerCreated
from shared_schemas.http.idempotency import Claim, current_claim
from shared_schemas.identity import Access
from shared_schemas.identity.tokens import Principal
from shared_schemas.listing import normalise
from shared_schemas.messaging.context import EventContext, current_event_context


@dataclass(frozen=True)
class NewCustomer:
    """One request to create a customer: its checked values, who asks, the request's
    context (its id becomes the event's correlation id) and its Idempotency-Key claim
    when it is written in a batch outside the request."""

    values: Mapping[str, Any]
    principal: Principal | None
    force: bool = False
    context: EventContext = field(default_factory=EventContext)
    claim: Claim | None = None


CustomerWriter = GroupCommit[NewCustomer, Customer]


def customer_writer(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> CustomerWriter:
    """The process's group commit of customer creations."""

    async def write(batch: Sequence[NewCustomer]) -> Sequence[Customer | BaseException]:
        async with UnitOfWork(sessions, settings) as uow:
            return await add_customers(uow, batch)

    return GroupCommit(write)


async def create_customer(
    writer: CustomerWriter, access: Access, values: Mapping[str, Any], *, force: bool = False
) -> Customer:
    """A new customer; a 409 naming the existing one if it looks like a duplicate."""
    access.require_fields({k: v for k, v in values.items() if v is not None})
    request = NewCustomer(values, access.principal, force, current_event_context(), current_claim())
    return await writer.submit(request)


async def add_customer(
    uow: UnitOfWork, access: Access, values: Mapping[str, Any], *, force: bool = False
) -> Customer:
    """One customer inside a unit of work that is already open (lead conversion)."""
    access.require_fields({k: v for k, v in values.items() if v is not None})
    request = NewCustomer(values, uow.principal, force, current_event_context())
    [result] = await add_customers(uow, [request])
    if isinstance(result, BaseException):
        raise result
    return result


async def add_customers(
    uow: UnitOfWork, requests: Sequence[NewCustomer]
) -> list[Customer | DomainError]:
    """Create each requested customer that passes its checks, in the uow's transaction."""
    session = uow.session
    owners, stamp = await _owners_and_stamp(session, [_owner_candidate(r) for r in requests])
    definitions = await custom_fields.definitions_for(session, stamp)
    by_email, by_name = await _existing(session, [r for r in requests if not r.force])
    results: list[Customer | DomainError] = []
    created: list[Customer] = []
    for request in requests:
        try:
            customer = _new_customer(uow, request, owners, definitions)
            if not request.force:
                _refuse_duplicate(customer, by_email, by_name)
        except DomainError as exc:
            results.append(exc)
            continue
        # Later requests of the same batch see this one as existing.
        if customer.email_key:
            by_email.setdefault(customer.email_key, customer.id)
        by_name.setdefault(customer.name_match, customer.id)
        created.append(customer)
        results.append(customer)
    if created:
        await _insert(session, created, definitions)
        events: list[tuple[EventData, str | None, EventContext]] = []
        served = _with_requests(created, requests, results)
        for customer, request in served:
            actor = request.principal.actor if request.principal else None
            state = customer_state(customer)
            events.append(
                (CustomerCreated(customer_id=customer.id, **state), actor, request.context)
            )
        await uow.record_many(events)
        uow.serve(request.claim for _, request in served if request.claim is not None)
    return results


def _owner_candidate(request: NewCustomer) -> uuid.UUID | None:
    asked = request.values.get("owner_id")
    if asked is not None:
        return uuid.UUID(str(asked))
    return request.principal.employee_id if request.principal else None


def _new_customer(
    uow: UnitOfWork,
    request: NewCustomer,
    owners: set[uuid.UUID],
    definitions: Mapping[str, FieldDefinition],
) -> Customer:
    data = request.values
    asked = data.get("owner_id")
    if asked is not None and asked not in owners:
        raise RuleViolation(
            "owner_id must be an active employee with role sales or sales_manager.",
            [{"field": "owner_id", "message": "not an active sales or sales_manager employee"}],
        )
    creator = request.principal.employee_id if request.principal else None
    owner = asked if asked is not None else (creator if creator in owners else None)
    custom = check_custom_fields(data.get("custom_fields") or {}, definitions, partial=False)
    terms = data.get("payment_terms_days")
    now = uow.now()
    customer = Customer(
        id=uuid.uuid4(),
        version=1,
        created_at=now,
        updated_at=now,
        kind=data["kind"],
        name=data["name"],
        email=data.get("email"),
        phone=data.get("phone"),
        industry=data.get("industry"),
        owner_id=owner,
        credit_limit=data.get("credit_limit"),
        payment_terms_days=uow.settings.company.payment_terms_days if terms is None else terms,
        billing_address=stored_address(data.get("billing_address")),
        shipping_address=stored_address(data.get("shipping_address")),
        tags=normalise_tags(data.get("tags") or []),
        custom_fields={k: v for k, v in custom.items() if v is not None},
        archived_at=None,
        open_balance=Decimal("0.00"),
        lifetime_value=Decimal("0.00"),
        last_order_id=None,
        last_order_number=None,
        last_order_at=None,
    )
    index_search_keys(customer)
    return customer


def _refuse_duplicate(
    customer: Customer, by_email: Mapping[str, uuid.UUID], by_name: Mapping[str, uuid.UUID]
) -> None:
    for matched_on, existing in (
        ("email", by_email.get(customer.email_key) if customer.email_key else None),
        ("name", by_name.get(customer.name_match)),
    ):
        if existing is not None:
            raise Duplicate(
                f"A customer with this {matched_on} exists already; send force=true to create "
                "another one anyway.",
                existing_id=existing,
                field=matched_on,
            )


# Built once: constructing SQL costs more than running it on this hot path.
_ELIGIBLE_OWNERS = (
    select(EmployeeReplica.id, *custom_fields.STAMP_COLUMNS)
    .select_from(select(literal(1).label("one")).subquery("one"))
    .outerjoin(
        EmployeeReplica,
        and_(
            EmployeeReplica.id.in_(bindparam("candidates", expanding=True)),
            EmployeeReplica.status == "active",
            EmployeeReplica.role.in_(sorted(OWNER_ROLES)),
        ),
    )
)

_EXISTING = select(Customer.id, Customer.email_key, Customer.name_match).where(
    Customer.archived_at.is_(None),
    or_(
        Customer.email_key.in_(bindparam("emails", expanding=True)),
        Customer.name_match.in_(bindparam("names", expanding=True)),
    ),
)


async def _owners_and_stamp(
    session: AsyncSession, candidates: Sequence[uuid.UUID | None]
) -> tuple[set[uuid.UUID], tuple[Any, ...]]:
    """Which candidates may own customers, and the custom field definitions' stamp."""
    wanted = sorted({c for c in candidates if c is not None}, key=str)
    rows = (await session.execute(_ELIGIBLE_OWNERS, {"candidates": wanted})).all()
    return {row.id for row in rows if row.id is not None}, tuple(rows[0][1:3])


async def _existing(
    session: AsyncSession, requests: Sequence[NewCustomer]
) -> tuple[dict[str, uuid.UUID], dict[str, uuid.UUID]]:
    """Active customers with the email or normalised name of any request."""
    emails = sorted({key for r in requests if (key := normalise(r.values.get("email")))})
    names = sorted({match_key(r.values["name"]) for r in requests})
    by_email: dict[str, uuid.UUID] = {}
    by_name: dict[str, uuid.UUID] = {}
    if not names:
        return by_email, by_name
    for row in await session.execute(_EXISTING, {"emails": emails, "names": names}):
        if row.email_key:
            by_email.setdefault(row.email_key, row.id)
        by_name.setdefault(row.name_match, row.id)
    return by_email, by_name


async def _insert(
    session: AsyncSession, created: Sequence[Customer], definitions: Mapping[str, FieldDefinition]
) -> None:
    """Multi-row bulk INSERTs: the ORM's unit of work would cost more than the rows."""
    await session.execute(insert(Customer), [column_values(customer) for customer in created])
    tags = [{"customer_id": c.id, "tag": tag} for c in created for tag in c.tags]
    if tags:
        await session.execute(insert(CustomerTag), tags)
    values = []
    for customer in created:
        for key, value in customer.custom_fields.items():
            definition = definitions.get(key)
            if definition is None:
                continue
            typed = typed_value(definition, value)
            values.append(
                {
                    "customer_id": customer.id,
                    "key": key,
                    "value_text": typed.text,
                    "value_number": typed.number,
                    "value_date": typed.day,
                    "value_bool": typed.flag,
                }
            )
    if values:
        await session.execute(insert(CustomFieldValue), values)


def _with_requests(
    created: Sequence[Customer],
    requests: Sequence[NewCustomer],
    results: Sequence[Customer | DomainError],
) -> list[tuple[Customer, NewCustomer]]:
    return [
        (result, request)
        for result, request in zip(results, requests, strict=True)
        if isinstance(result, Customer)
    ]
