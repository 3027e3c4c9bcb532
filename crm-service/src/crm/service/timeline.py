"""A customer's timeline: its activities merged with what ERP reported about it (orders,
shipments, invoices, payments), newest first, in keyset pages across both sources."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from crm.adapters.pipeline import Lead, Opportunity
from crm.adapters.replicas import TimelineEntry
from crm.adapters.service_desk import Activity
from crm.domain.activities import TARGETS, TIMELINE_PREFIX, timeline_kind
from crm.service.customers import get_customer
from shared_schemas.http.pagination import Page, decode_cursor, encode_cursor, invalid_cursor

CURSOR_TAG = "timeline"

# The source ERP's facts are stored with; the timeline names them without it
# (`order.created`, `invoice.issued`), beside `activity.call`.
ERP_PREFIX = "erp."


@dataclass(frozen=True)
class TimelineItem:
    id: uuid.UUID
    kind: str
    occurred_at: datetime
    title: str
    summary: str | None
    details: dict[str, Any]
    ref_type: str
    ref_id: uuid.UUID


@dataclass(frozen=True)
class KindFilter:
    """Which items a `kind=` list asks for. A kind with a dot is exact (`activity.call`,
    `order.created`); one without is a family (`activity`, `invoice`); none means all."""

    all_activities: bool
    activity_kinds: frozenset[str]
    entry_kinds: tuple[str, ...]
    everything: bool

    @classmethod
    def of(cls, kinds: Sequence[str]) -> KindFilter:
        all_activities = False
        activity_kinds: set[str] = set()
        entry_kinds: list[str] = []
        for kind in kinds:
            if kind == TIMELINE_PREFIX:
                all_activities = True
            elif kind.startswith(TIMELINE_PREFIX + "."):
                activity_kinds.add(kind.removeprefix(TIMELINE_PREFIX + "."))
            else:
                entry_kinds.append(kind)
        return cls(all_activities, frozenset(activity_kinds), tuple(entry_kinds), not kinds)

    @property
    def wants_activities(self) -> bool:
        return self.everything or self.all_activities or bool(self.activity_kinds)

    @property
    def wants_entries(self) -> bool:
        return self.everything or bool(self.entry_kinds)


async def customer_timeline(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    kinds: Sequence[str],
    include_activities: bool,
    erp_facts: Collection[str],
    cursor: str | None,
    limit: int,
) -> Page[TimelineItem]:
    """One page of the customer's timeline, newest first by (occurred_at, id).

    Activities count when they are on the customer, on one of its opportunities or on a
    lead converted into it. Each source is read in the same keyset order and the pages are
    merged, so items added while a client pages never shift the ones it has still to see.
    `include_activities` is False for roles that may not read activities; `erp_facts`
    names the kinds of record (`order`, `invoice`, ...) whose reported facts the caller
    may see.
    """
    await get_customer(session, customer_id)
    after = _position(cursor)
    wanted = KindFilter.of(kinds)
    items: list[TimelineItem] = []
    if include_activities and wanted.wants_activities:
        items += await _activities(session, customer_id, wanted, after, limit + 1)
    if wanted.wants_entries and erp_facts:
        items += await _entries(session, customer_id, wanted, erp_facts, after, limit + 1)
    items.sort(key=lambda item: (item.occurred_at, item.id), reverse=True)
    fetched = items[: limit + 1]
    if len(fetched) <= limit:
        return Page(items=fetched, next_cursor=None)
    last = fetched[limit - 1]
    return Page(
        items=fetched[:limit],
        next_cursor=encode_cursor([CURSOR_TAG, last.occurred_at.isoformat(), str(last.id)]),
    )


async def _activities(
    session: AsyncSession,
    customer_id: uuid.UUID,
    wanted: KindFilter,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[TimelineItem]:
    conditions: list[ColumnElement[bool]] = [
        or_(
            Activity.customer_id == customer_id,
            Activity.opportunity_id.in_(
                select(Opportunity.id).where(Opportunity.customer_id == customer_id)
            ),
            Activity.lead_id.in_(select(Lead.id).where(Lead.customer_id == customer_id)),
        )
    ]
    if not (wanted.everything or wanted.all_activities):
        conditions.append(Activity.kind.in_(sorted(wanted.activity_kinds)))
    if after is not None:
        conditions.append(tuple_(Activity.occurred_at, Activity.id) < tuple_(*after))
    query = (
        select(Activity)
        .where(*conditions)
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(limit)
    )
    return [_activity_item(activity) for activity in await session.scalars(query)]


async def _entries(
    session: AsyncSession,
    customer_id: uuid.UUID,
    wanted: KindFilter,
    ref_types: Collection[str],
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[TimelineItem]:
    conditions: list[ColumnElement[bool]] = [
        TimelineEntry.customer_id == customer_id,
        TimelineEntry.ref_type.in_(sorted(ref_types)),
    ]
    if not wanted.everything:
        # Stored kinds may carry their source (`erp.order.created`); match either form.
        spellings = [form for kind in wanted.entry_kinds for form in (kind, ERP_PREFIX + kind)]
        conditions.append(
            or_(
                TimelineEntry.kind.in_(spellings),
                *(TimelineEntry.kind.startswith(f"{form}.", autoescape=True) for form in spellings),
            )
        )
    if after is not None:
        conditions.append(tuple_(TimelineEntry.occurred_at, TimelineEntry.id) < tuple_(*after))
    query = (
        select(TimelineEntry)
        .where(*conditions)
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
        .limit(limit)
    )
    return [_entry_item(entry) for entry in await session.scalars(query)]


def _activity_item(activity: Activity) -> TimelineItem:
    details: dict[str, Any] = {
        "author": activity.author,
        "owner_id": str(activity.owner_id) if activity.owner_id else None,
    }
    for target in TARGETS:
        linked = getattr(activity, target)
        if linked is not None:
            details[target] = str(linked)
    return TimelineItem(
        id=activity.id,
        kind=timeline_kind(activity.kind),
        occurred_at=activity.occurred_at,
        title=activity.subject,
        summary=activity.body,
        details=details,
        ref_type="activity",
        ref_id=activity.id,
    )


def _entry_item(entry: TimelineEntry) -> TimelineItem:
    summary = entry.details.get("summary") if entry.details else None
    return TimelineItem(
        id=entry.id,
        kind=entry.kind.removeprefix(ERP_PREFIX),
        occurred_at=entry.occurred_at,
        title=entry.title,
        summary=summary if isinstance(summary, str) else None,
        details=dict(entry.details or {}),
        ref_type=entry.ref_type,
        ref_id=entry.ref_id,
    )


def _position(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The (occurred_at, id) of the last item the client saw."""
    key = decode_cursor(cursor)
    if key is None:
        return None
    if len(key) != 3 or key[0] != CURSOR_TAG:
        raise invalid_cursor()
    try:
        occurred_at = datetime.fromisoformat(str(key[1]))
        item_id = uuid.UUID(str(key[2]))
    except (ValueError, TypeError) as exc:
        raise invalid_cursor() from exc
    if occurred_at.tzinfo is None:
        raise invalid_cursor()
    return occurred_at, item_id
