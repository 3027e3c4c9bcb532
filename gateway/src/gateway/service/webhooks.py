"""Use cases of webhook subscriptions: subscribe, list, change, unsubscribe, read the
delivery log, replay from a point in time out of the event history."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.adapters.events import EventRecord, WebhookDelivery, WebhookSubscription
from gateway.adapters.webhook_sender import TargetPolicy
from gateway.domain.webhooks import DeliveryStatus, check_event_types, expand
from gateway.service.history import insert_deliveries, new_delivery
from gateway.service.webhook_delivery import disable_subscription
from gateway.service.webhook_secrets import SecretBox, UnreadableSecret
from shared_schemas.domain import Conflict, NotFound, StaleVersion
from shared_schemas.events.registry import EVENT_TYPES
from shared_schemas.http.pagination import Page
from shared_schemas.listing import Listing, SortKey

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret

SUBSCRIPTIONS = Listing(
    fields={"created_at": SortKey(WebhookSubscription.created_at, datetime)},
    id_column=WebhookSubscription.id,
)
DELIVERIES = Listing(
    fields={"created_at": SortKey(WebhookDelivery.created_at, datetime)},
    id_column=WebhookDelivery.id,
)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class NewSubscription:
    url: str
    event_types: Sequence[str]
    secret: str | None = None
    description: str | None = None


async def subscribe(
    sessions: async_sessionmaker[AsyncSession],
    policy: TargetPolicy,
    box: SecretBox,
    actor: str,
    request: NewSubscription,
) -> tuple[WebhookSubscription, str]:
    """A new active subscription and its secret in clear (the one given or a generated
    one), which is stored only sealed."""
    event_types = check_event_types(request.event_types, EVENT_TYPES)
    await policy.check(request.url)
    now = _now()
    secret = request.secret or new_secret()
    subscription = WebhookSubscription(
        id=uuid.uuid4(),
        url=request.url,
        event_types=event_types,
        sealed_secret=box.seal(secret),
        description=request.description,
        active=True,
        consecutive_failures=0,
        created_by=actor,
        version=1,
        created_at=now,
        updated_at=now,
    )
    async with sessions() as session, session.begin():
        session.add(subscription)
    return subscription, secret


async def reseal_secrets(sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> int:
    """Seal again under the first key every secret an older key sealed; return how many.
    A secret no configured key opens is left as it is (and logged).

    Several runners at once do no harm: a row is rewritten only while it still holds the
    sealed value that was read.
    """
    async with sessions() as session:
        rows = (
            await session.execute(select(WebhookSubscription.id, WebhookSubscription.sealed_secret))
        ).all()
    resealed: list[tuple[uuid.UUID, str, str]] = []
    for subscription_id, sealed in rows:
        if box.is_current(sealed):
            continue
        try:
            resealed.append((subscription_id, sealed, box.reseal(sealed)))
        except UnreadableSecret:
            log.error("webhook %s: no configured secret key opens its secret", subscription_id)
    if not resealed:
        return 0
    moved = 0
    async with sessions() as session, session.begin():
        for subscription_id, sealed, fresh in resealed:
            result = await session.execute(
                update(WebhookSubscription)
                .where(
                    WebhookSubscription.id == subscription_id,
                    WebhookSubscription.sealed_secret == sealed,
                )
                .values(sealed_secret=fresh)
            )
            moved += result.rowcount  # type: ignore[attr-defined]
    log.info("webhook secrets: %d sealed again under the first key", moved)
    return moved


async def get_subscription(
    session: AsyncSession, subscription_id: uuid.UUID
) -> WebhookSubscription:
    subscription = await session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise NotFound("webhook subscription", subscription_id)
    return subscription


async def find_subscription(
    sessions: async_sessionmaker[AsyncSession], subscription_id: uuid.UUID
) -> WebhookSubscription:
    async with sessions() as session:
        return await get_subscription(session, subscription_id)


async def list_subscriptions(
    sessions: async_sessionmaker[AsyncSession],
    *,
    active: bool | None,
    sort: str | None,
    cursor: str | None,
    limit: int,
) -> Page[WebhookSubscription]:
    query = select(WebhookSubscription)
    if active is not None:
        query = query.where(WebhookSubscription.active.is_(active))
    async with sessions() as session:
        rows = (await session.scalars(SUBSCRIPTIONS.apply(query, sort, cursor, limit))).all()
    return SUBSCRIPTIONS.page(rows, limit, sort)


async def change_subscription(
    sessions: async_sessionmaker[AsyncSession],
    policy: TargetPolicy,
    subscription_id: uuid.UUID,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> WebhookSubscription:
    """Change url, event types, description or `active`. Enabling starts afresh (no
    failures counted); disabling fails the deliveries still pending. One request that
    changes something is one version; sending what the subscription holds is none."""
    if "event_types" in changes:
        changes = {**changes, "event_types": check_event_types(changes["event_types"], EVENT_TYPES)}
    if "url" in changes:
        await policy.check(changes["url"])
    now = _now()
    async with sessions() as session, session.begin():
        subscription = await get_subscription(session, subscription_id)
        if expected_version is not None and expected_version != subscription.version:
            raise StaleVersion(subscription.version)
        active = changes.get("active")
        edits = {
            name: value
            for name, value in changes.items()
            if name != "active" and getattr(subscription, name) != value
        }
        enabling = active is True and not subscription.active
        counted = False
        if active is False and subscription.active:
            before = subscription.version
            # Counts its own version (the delivery job disables with it too).
            await disable_subscription(session, subscription.id, "disabled through the API", now)
            await session.refresh(subscription)
            counted = subscription.version != before
        elif enabling:
            subscription.active = True
            subscription.disabled_reason = None
            subscription.disabled_at = None
            subscription.consecutive_failures = 0
        for name, value in edits.items():
            setattr(subscription, name, value)
        if (edits or enabling) and not counted:
            subscription.version += 1
            subscription.updated_at = now
    return subscription


async def unsubscribe(
    sessions: async_sessionmaker[AsyncSession], subscription_id: uuid.UUID
) -> None:
    """Delete a subscription with its delivery log."""
    async with sessions() as session, session.begin():
        subscription = await get_subscription(session, subscription_id)
        await session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
        )
        await session.delete(subscription)


@dataclass(frozen=True)
class DeliveryFilters:
    statuses: list[str] = field(default_factory=list)


async def list_deliveries(
    sessions: async_sessionmaker[AsyncSession],
    subscription_id: uuid.UUID,
    filters: DeliveryFilters,
    cursor: str | None,
    limit: int,
) -> Page[WebhookDelivery]:
    """The subscription's delivery log, newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if filters.statuses:
        query = query.where(WebhookDelivery.status.in_(filters.statuses))
    async with sessions() as session:
        await get_subscription(session, subscription_id)
        rows = (await session.scalars(DELIVERIES.apply(query, None, cursor, limit))).all()
    return DELIVERIES.page(rows, limit, None)


@dataclass(frozen=True)
class Replayed:
    queued: int
    # When the oldest event the history still holds was received (None: it holds none);
    # a replay from before then could only start there.
    history_from: datetime | None


async def replay(
    sessions: async_sessionmaker[AsyncSession], subscription_id: uuid.UUID, since: datetime
) -> Replayed:
    """Queue again every event of the history received since `since` that the
    subscription wants, except those with a delivery still pending.

    The broker cannot seek by time, so the gateway's own history is the source."""
    now = _now()
    async with sessions() as session, session.begin():
        subscription = await get_subscription(session, subscription_id)
        if not subscription.active:
            raise Conflict("The subscription is disabled: enable it before replaying.")
        types = expand(subscription.event_types, EVENT_TYPES)
        still_pending = select(WebhookDelivery.event_seq).where(
            WebhookDelivery.subscription_id == subscription.id,
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
        )
        events = (
            await session.execute(
                select(EventRecord.seq, EventRecord.event_id, EventRecord.type)
                .where(
                    EventRecord.received_at >= since,
                    EventRecord.type.in_(types),
                    EventRecord.seq.not_in(still_pending),
                )
                .order_by(EventRecord.seq)
            )
        ).all()
        await insert_deliveries(
            session,
            [
                new_delivery(subscription.id, seq, event_id, kind, now)
                for seq, event_id, kind in events
            ],
        )
        history_from = await session.scalar(select(func.min(EventRecord.received_at)))
    return Replayed(len(events), history_from)
