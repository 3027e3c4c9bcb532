"""Use cases of a customer's contacts (the people to talk to at a company)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.customers import Contact, Customer
from crm.service.customers import check_version, get_customer
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.domain import Conflict, NotFound
from shared_schemas.http.pagination import Page
from shared_schemas.identity import Access
from shared_schemas.listing import Listing, SortKey, normalise, prefix_match

# The primary contact first, then by name: one sort value ("0" for the primary contact,
# "1" for the others, then the name's search key), so the shared keyset of (value, id)
# pages through it like any other field. No index holds that value: each page sorts the
# customer's contacts, found by the (customer_id, name_key, id) index, which a customer's
# tens of contacts make cheap (`sort=name` walks that index itself).
_PRIMARY_FIRST = case((Contact.is_primary, "0"), else_="1") + Contact.name_key

LISTING = Listing(
    fields={
        "primary": SortKey(_PRIMARY_FIRST),
        "name": SortKey(Contact.name_key),
        "created_at": SortKey(Contact.created_at, datetime),
    },
    id_column=Contact.id,
    default="primary",
)


async def list_contacts(
    session: AsyncSession,
    customer_id: uuid.UUID,
    q: str | None,
    sort: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Contact]:
    await get_customer(session, customer_id)
    query = select(Contact).where(Contact.customer_id == customer_id)
    if q:
        searched = [prefix_match(column, q) for column in (Contact.name_key, Contact.email_key)]
        query = LISTING.apply_any_of(query, searched, sort, cursor, limit)
    else:
        query = LISTING.apply(query, sort, cursor, limit)
    rows = list(await session.scalars(query))
    by_primacy = (sort or LISTING.default).lstrip("-") == "primary"
    return LISTING.page(rows, limit, sort, _primary_first_key if by_primacy else None)


def _primary_first_key(contact: Contact) -> tuple[str, uuid.UUID]:
    """A contact's value in `_PRIMARY_FIRST`, for the cursor after it."""
    return ("0" if contact.is_primary else "1") + contact.name_key, contact.id


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
