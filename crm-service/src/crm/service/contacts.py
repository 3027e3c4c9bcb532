"""Use cases of a customer's contacts (the people to talk to at a company)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.customers import Contact, Customer
from crm.service.customers import check_version, get_customer
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.domain import Conflict, NotFound
from shared_schemas.identity import Access
from shared_schemas.listing import normalise


async def list_contacts(session: AsyncSession, customer_id: uuid.UUID) -> Sequence[Contact]:
    await get_customer(session, customer_id)
    rows = await session.scalars(
        select(Contact)
        .where(Contact.customer_id == customer_id)
        .order_by(Contact.is_primary.desc(), Contact.name_key, Contact.id)
    )
    return list(rows)


async def get_contact(
    session: AsyncSession, customer_id: uuid.UUID, contact_id: uuid.UUID
) -> Contact:
    contact = await session.get(Contact, contact_id)
    if contact is None or contact.customer_id != customer_id:
        raise NotFound("contact", contact_id)
    return contact


async def add_contact(
    uow: UnitOfWork, access: Access, customer_id: uuid.UUID, values: Mapping[str, Any]
) -> Contact:
    async with uow:
        customer = await _writable_customer(uow.session, access, customer_id)
        contact = Contact(id=uuid.uuid4(), customer_id=customer.id, **values)
        _index(contact)
        if contact.is_primary:
            await _demote_primary(uow.session, customer.id)
        uow.session.add(contact)
        await uow.session.flush()
    return contact


async def change_contact(
    uow: UnitOfWork,
    access: Access,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> Contact:
    async with uow:
        await _writable_customer(uow.session, access, customer_id)
        contact = await get_contact(uow.session, customer_id, contact_id)
        check_version(contact.version, expected_version)
        if changes.get("is_primary") and not contact.is_primary:
            await _demote_primary(uow.session, customer_id)
        for field, value in changes.items():
            setattr(contact, field, value)
        _index(contact)
        await uow.session.flush()
    return contact


async def remove_contact(
    uow: UnitOfWork,
    access: Access,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID,
    expected_version: int | None,
) -> None:
    async with uow:
        await _writable_customer(uow.session, access, customer_id)
        contact = await get_contact(uow.session, customer_id, contact_id)
        check_version(contact.version, expected_version)
        await uow.session.delete(contact)


async def _writable_customer(
    session: AsyncSession, access: Access, customer_id: uuid.UUID
) -> Customer:
    # Locked: two writers each making a contact primary would each find the other's
    # contact not yet primary and leave two.
    customer = await get_customer(session, customer_id, lock=True)
    # Adding, changing or removing a contact changes the customer: its owner does it.
    access.for_action("update").require_owner(customer.owner_id)
    if customer.archived_at is not None:
        raise Conflict(
            "The customer is archived; restore it to change its contacts.",
            current_status="archived",
            allowed=["restore"],
        )
    return customer


async def _demote_primary(session: AsyncSession, customer_id: uuid.UUID) -> None:
    # The demoted contact changed: its version moves on so stale edits of it fail.
    await session.execute(
        update(Contact)
        .where(Contact.customer_id == customer_id, Contact.is_primary.is_(True))
        .values(is_primary=False, version=Contact.version + 1)
        .execution_options(synchronize_session="fetch")
    )


def _index(contact: Contact) -> None:
    contact.name_key = normalise(contact.name) or ""
    contact.email_key = normalise(contact.email)
