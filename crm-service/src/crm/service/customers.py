"""Use cases of customers: change, archive, restore (creation: `customer_creation`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.customers import (
    Customer,
    CustomerTag,
    CustomFieldValue,
)
from crm.domain.customers import (
    FieldDefinition,
    check_custom_fields,
    match_key,
    normalise_tags,
    typed_value,
)
from crm.domain.staff import OWNER_ROLES
from crm.service import custom_fields
from crm.service.staff import require_eligible
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.domain import Conflict, NotFound, StaleVersion, StateMachine
from shared_schemas.events.crm.customers import (
    CustomerArchived,
    CustomerUpdated,
)
from shared_schemas.events.values import Address, CustomerSnapshot, FieldChange
from shared_schemas.identity import Access
from shared_schemas.listing import normalise

LIFECYCLE = StateMachine(
    "customer", {"active": {"archive": "archived"}, "archived": {"restore": "active"}}
)

# The fields of the customer's replicated state, in event order.
STATE_FIELDS = (
    "kind",
    "name",
    "email",
    "phone",
    "billing_address",
    "shipping_address",
    "industry",
    "owner_id",
    "credit_limit",
    "payment_terms_days",
    "tags",
    "custom_fields",
    "archived",
)


def status_of(customer: Customer) -> str:
    return "archived" if customer.archived_at else "active"


async def get_customer(
    session: AsyncSession, customer_id: uuid.UUID, *, lock: bool = False
) -> Customer:
    """The customer; `lock` holds its row until the transaction ends (writers of what
    hangs off a customer, like its one primary contact, then take their turns)."""
    customer = await session.get(Customer, customer_id, with_for_update=lock or None)
    if customer is None:
        raise NotFound("customer", customer_id)
    return customer


async def field_definitions(session: AsyncSession) -> dict[str, FieldDefinition]:
    return await custom_fields.current_definitions(session)


async def update_customer(
    uow: UnitOfWork,
    access: Access,
    customer_id: uuid.UUID,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> Customer:
    """Change some fields; publishes the full state with each changed field's before/after."""
    async with uow:
        session = uow.session
        customer = await get_customer(session, customer_id)
        _check_version(customer.version, expected_version)
        access.require_owner(customer.owner_id)
        access.require_fields(changes)
        if customer.archived_at is not None:
            raise Conflict(
                "An archived customer cannot be changed; restore it first.",
                current_status="archived",
                allowed=LIFECYCLE.allowed("archived"),
            )
        before = customer_state(customer)
        definitions = await field_definitions(session)
        for field, value in changes.items():
            if field == "owner_id" and value is not None and value != customer.owner_id:
                await require_eligible(session, value, OWNER_ROLES, "owner_id")
            if field == "tags":
                value = normalise_tags(value or [])
            elif field == "custom_fields":
                merged = {**customer.custom_fields, **value}
                checked = check_custom_fields(merged, definitions, partial=False)
                value = {k: v for k, v in checked.items() if v is not None}
            elif field in ("billing_address", "shipping_address"):
                value = stored_address(value)
            setattr(customer, field, value)
        index_search_keys(customer)
        after = customer_state(customer)
        changed = [field for field in STATE_FIELDS if before[field] != after[field]]
        if not changed:
            return customer
        await session.flush()
        after["version"] = customer.version  # bumped by the flush
        await _store_filterables(session, customer, definitions)
        await uow.record(
            CustomerUpdated(
                customer_id=customer.id,
                changes=[FieldChange(field=f, before=before[f], after=after[f]) for f in changed],
                **after,
            )
        )
    return customer


async def archive_customer(
    uow: UnitOfWork, access: Access, customer_id: uuid.UUID, expected_version: int | None
) -> Customer:
    async with uow:
        customer = await get_customer(uow.session, customer_id)
        _check_version(customer.version, expected_version)
        access.require_owner(customer.owner_id)
        LIFECYCLE.next(status_of(customer), "archive")
        customer.archived_at = uow.now()
        await uow.session.flush()
        # The full state, as every customer event carries it: a replica that first hears
        # of the customer from its archive still knows who it is.
        await uow.record(CustomerArchived(customer_id=customer.id, **customer_state(customer)))
    return customer


async def restore_customer(
    uow: UnitOfWork, access: Access, customer_id: uuid.UUID, expected_version: int | None
) -> Customer:
    async with uow:
        customer = await get_customer(uow.session, customer_id)
        _check_version(customer.version, expected_version)
        access.require_owner(customer.owner_id)
        LIFECYCLE.next(status_of(customer), "restore")
        customer.archived_at = None
        await uow.session.flush()
        state = customer_state(customer)
        change = FieldChange(field="archived", before=True, after=False)
        await uow.record(CustomerUpdated(customer_id=customer.id, changes=[change], **state))
    return customer


async def record_owner_change(
    uow: UnitOfWork, customer: Customer, owner_id: uuid.UUID | None
) -> None:
    """Give the customer another owner (or none) on the system's behalf, with its event."""
    before = customer_state(customer)
    customer.owner_id = owner_id
    after = customer_state(customer)
    if before["owner_id"] == after["owner_id"]:
        return
    await uow.session.flush()
    after["version"] = customer.version
    change = FieldChange(field="owner_id", before=before["owner_id"], after=after["owner_id"])
    await uow.record(CustomerUpdated(customer_id=customer.id, changes=[change], **after))


def snapshot(customer: Customer) -> CustomerSnapshot:
    """The customer as documents carry it to ERP (`crm.quote.accepted.v1`)."""
    state = customer_state(customer)
    return CustomerSnapshot(
        id=customer.id,
        version=customer.version,
        kind=state["kind"],
        name=state["name"],
        email=state["email"],
        phone=state["phone"],
        billing_address=state["billing_address"],
        shipping_address=state["shipping_address"],
        credit_limit=customer.credit_limit,
        payment_terms_days=customer.payment_terms_days,
    )


def check_version(current: int, expected: int | None) -> None:
    """StaleVersion (412) when the client's If-Match names another version."""
    _check_version(current, expected)


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise StaleVersion(current)


async def require_unarchived(
    session: AsyncSession, customer_id: uuid.UUID, record: str, current_status: str
) -> None:
    """A `record` (opportunity, quote) of an archived customer is read-only until the
    customer is restored (409 naming `restore`). The customer row is share-locked until the
    transaction ends, so an archive cannot commit between this check and the change."""
    customer = await session.get(Customer, customer_id, with_for_update={"read": True})
    if customer is not None and customer.archived_at is not None:
        raise Conflict(
            f"The {record}'s customer is archived; restore the customer to change the {record}.",
            current_status=current_status,
            customer_status="archived",
            allowed=["restore"],
        )


def stored_address(value: Any) -> dict[str, Any] | None:
    """An address as stored and sent: every field of `Address` present, unset ones null,
    whichever of them the client sent (so a record and its events keep one shape)."""
    if value is None:
        return None
    dumped: dict[str, Any] = Address.model_validate(value).model_dump(mode="json")
    return dumped


def index_search_keys(customer: Customer) -> None:
    customer.name_key = normalise(customer.name) or ""
    customer.name_match = match_key(customer.name)
    customer.email_key = normalise(customer.email)


def customer_state(customer: Customer) -> dict[str, Any]:
    """The replicated state as JSON values, as events carry it (and changes compare)."""
    return {
        "version": customer.version,
        "kind": customer.kind,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "billing_address": stored_address(customer.billing_address),
        "shipping_address": stored_address(customer.shipping_address),
        "industry": customer.industry,
        "owner_id": str(customer.owner_id) if customer.owner_id else None,
        "credit_limit": f"{customer.credit_limit:.2f}"
        if customer.credit_limit is not None
        else None,
        "payment_terms_days": customer.payment_terms_days,
        "tags": list(customer.tags),
        "custom_fields": dict(customer.custom_fields),
        "archived": customer.archived_at is not None,
    }


async def _store_filterables(
    session: AsyncSession,
    customer: Customer,
    definitions: Mapping[str, FieldDefinition],
    *,
    fresh: bool = False,
) -> None:
    """Rewrite the customer's tag and custom field rows the filters use (a new customer
    has none to remove)."""
    if not fresh:
        await session.execute(delete(CustomerTag).where(CustomerTag.customer_id == customer.id))
        await session.execute(
            delete(CustomFieldValue).where(CustomFieldValue.customer_id == customer.id)
        )
    session.add_all(CustomerTag(customer_id=customer.id, tag=tag) for tag in customer.tags)
    for key, value in customer.custom_fields.items():
        definition = definitions.get(key)
        if definition is None:
            continue
        typed = typed_value(definition, value)
        session.add(
            CustomFieldValue(
                customer_id=customer.id,
                key=key,
                value_text=typed.text,
                value_number=typed.number,
                value_date=typed.day,
                value_bool=typed.flag,
            )
        )
