"""Finding customers: filters, prefix search and keyset pages that stay fast at millions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.customers import Customer, CustomerTag, CustomFieldValue
from crm.domain.customers import parse_filter_value
from crm.service.customers import field_definitions
from shared_schemas.domain import RuleViolation
from shared_schemas.http.pagination import Page
from shared_schemas.listing import Listing, SortKey, normalise, prefix_match

LISTING = Listing(
    fields={
        "created_at": SortKey(Customer.created_at, datetime),
        "name": SortKey(Customer.name_key),
        "updated_at": SortKey(Customer.updated_at, datetime),
    },
    id_column=Customer.id,
)


@dataclass(frozen=True)
class CustomerFilters:
    q: str | None = None
    kind: str | None = None
    owner_ids: list[Any] = field(default_factory=list)
    industry: str | None = None
    tags: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=lambda: ["active"])
    created_from: datetime | None = None
    created_to: datetime | None = None
    custom_fields: dict[str, str] = field(default_factory=dict)


async def list_customers(
    session: AsyncSession,
    filters: CustomerFilters,
    sort: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Customer]:
    query = await _filtered(session, select(Customer), filters)
    if filters.q:
        searched = [
            prefix_match(Customer.name_key, filters.q),
            prefix_match(Customer.email_key, filters.q),
        ]
        query = LISTING.apply_any_of(query, searched, sort, cursor, limit)
    else:
        query = LISTING.apply(query, sort, cursor, limit)
    rows = list(await session.scalars(query))
    return LISTING.page(rows, limit, sort)


async def _filtered(
    session: AsyncSession, query: Select[Any], filters: CustomerFilters
) -> Select[Any]:
    conditions = []
    if filters.kind:
        conditions.append(Customer.kind == filters.kind)
    if filters.owner_ids:
        conditions.append(Customer.owner_id.in_(filters.owner_ids))
    if filters.industry:
        conditions.append(Customer.industry == filters.industry)
    statuses = set(filters.statuses)
    if statuses == {"active"}:
        conditions.append(Customer.archived_at.is_(None))
    elif statuses == {"archived"}:
        conditions.append(Customer.archived_at.is_not(None))
    if filters.created_from:
        conditions.append(Customer.created_at >= filters.created_from)
    if filters.created_to:
        conditions.append(Customer.created_at < filters.created_to)
    if filters.tags:
        tags = [normalise(tag) for tag in filters.tags]
        conditions.append(
            select(CustomerTag.customer_id)
            .where(CustomerTag.customer_id == Customer.id, CustomerTag.tag.in_(tags))
            .exists()
        )
    if filters.custom_fields:
        definitions = await field_definitions(session)
        for key, raw in filters.custom_fields.items():
            definition = definitions.get(key)
            if definition is None:
                raise RuleViolation(
                    f"There is no custom field {key!r}.",
                    [{"field": f"cf.{key}", "message": "no such custom field"}],
                )
            value = parse_filter_value(definition, raw)
            column, wanted = {
                "number": (CustomFieldValue.value_number, value.number),
                "date": (CustomFieldValue.value_date, value.day),
                "boolean": (CustomFieldValue.value_bool, value.flag),
            }.get(definition.type, (CustomFieldValue.value_text, value.text))
            conditions.append(
                select(CustomFieldValue.customer_id)
                .where(
                    CustomFieldValue.customer_id == Customer.id,
                    CustomFieldValue.key == key,
                    column == wanted,
                )
                .exists()
            )
    return query.where(and_(*conditions)) if conditions else query
