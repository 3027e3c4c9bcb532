"""Delivering webhooks: claim the deliveries that are due, POST each signed event, record
what the receiver answered, retry or give up, disable subscriptions that keep refusing.

It runs as a periodic job (once across replicas); the claim also takes the rows with SKIP
LOCKED on PostgreSQL and leases them for longer than an attempt can take, so two runners
never send one delivery at the same time, and a runner that dies mid-way only delays it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prometheus_client import Counter
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from gateway.adapters.events import EventRecord, WebhookDelivery, WebhookSubscription
from gateway.adapters.metrics import WEBHOOK_BACKLOG
from gateway.adapters.webhook_sender import Answer, TargetPolicy, WebhookSender
from gateway.config import Settings
from gateway.domain.webhooks import DeliveryStatus, Verdict, classify, next_attempt_at, sign
from gateway.service.webhook_secrets import UnreadableSecret, secret_box_for
from shared_schemas.database import READ_ONLY, session_factory
from shared_schemas.events.base import CLOUDEVENTS_CONTENT_TYPE

log = logging.getLogger(__name__)

WEBHOOK_ATTEMPTS = Counter(
    "gateway_webhook_attempts_total",
    "Webhook delivery attempts by outcome: delivered, retry, refused, gone, dead",
    ["outcome"],
)

# How long a claimed delivery is left alone beyond the attempt's own timeout.
LEASE_MARGIN = timedelta(seconds=60)
# One run of the job stops claiming after this long, so other jobs get their turn.
RUN_BUDGET_SECONDS = 30.0


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    subscription_id: uuid.UUID
    url: str
    sealed_secret: str
    event_id: uuid.UUID
    payload: str
    attempts: int
    created_at: datetime


class WebhookDispatcher:
    """One step (`deliver_due`) claims and sends what is due at `now`; `run` repeats it
    while work remains. `now` may be given to step through retries without waiting."""

    def __init__(
        self,
        engine: AsyncEngine,
        settings: Settings,
        *,
        policy: TargetPolicy | None = None,
        batch_size: int = 50,
        concurrency: int = 10,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.settings = settings
        self.policy = policy or TargetPolicy(settings.webhook_allowed_private_hosts)
        self.box = secret_box_for(settings)
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.clock = clock
        self.retry_window = timedelta(hours=settings.webhook_retry_hours)
        self.lease = timedelta(seconds=settings.webhook_timeout_seconds) + LEASE_MARGIN

    async def run(self) -> int:
        """Deliver until nothing more is due (or the run's time is up); refresh the backlog."""
        started = time.monotonic()
        sent = 0
        while time.monotonic() - started < RUN_BUDGET_SECONDS:
            count = await self.deliver_due()
            sent += count
            if count < self.batch_size:
                break
        await refresh_backlog(self.engine)
        return sent

    async def deliver_due(self, now: datetime | None = None) -> int:
        """Claim up to `batch_size` due deliveries and attempt each; return how many."""
        at = now or self.clock()
        claimed = await self._claim(at)
        if not claimed:
            return 0
        gate = asyncio.Semaphore(self.concurrency)
        async with WebhookSender(self.policy, self.settings.webhook_timeout_seconds) as sender:

            async def attempt(delivery: Claimed) -> None:
                async with gate:
                    try:
                        await self._attempt(sender, delivery, now)
                    except Exception:
                        # The database failed this one delivery (its state not read or
                        # its outcome not written): it stays leased and is sent again once
                        # the lease ends (receivers dedupe on Webhook-Id), and the batch's
                        # others go on, none cut off mid-request.
                        log.exception(
                            "webhook %s: the attempt's outcome was not recorded",
                            delivery.subscription_id,
                        )

            await asyncio.gather(*(attempt(delivery) for delivery in claimed))
        return len(claimed)

    async def _claim(self, now: datetime) -> list[Claimed]:
        query = (
            select(
                WebhookDelivery.id,
                WebhookDelivery.subscription_id,
                WebhookSubscription.url,
                WebhookSubscription.sealed_secret,
                WebhookDelivery.event_id,
                EventRecord.payload,
                WebhookDelivery.attempts,
                WebhookDelivery.created_at,
            )
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .join(EventRecord, EventRecord.seq == WebhookDelivery.event_seq)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
                WebhookDelivery.next_attempt_at <= now,
                WebhookSubscription.active.is_(True),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(self.batch_size)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        )
        async with self.sessions() as session, session.begin():
            rows = (await session.execute(query)).all()
            claimed = [Claimed(*row) for row in rows]
            if claimed:
                await session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id.in_([c.id for c in claimed]))
                    .values(next_attempt_at=now + self.lease)
                )
        return claimed

    async def _attempt(
        self, sender: WebhookSender, delivery: Claimed, now: datetime | None
    ) -> None:
        if not await self._still_pending(delivery):
            return  # its subscription stopped since the claim: nothing to send
        try:
            answer = await self._send(sender, delivery)
        except Exception as exc:
            # A fault of the gateway's in this one attempt (the receiver's answers and
            # network errors are Answers already): recorded as a failed attempt, so the
            # delivery is retried and counted, and the batch's other deliveries go on.
            log.exception("webhook %s: attempt failed", delivery.subscription_id)
            answer = Answer(None, error=f"the gateway failed: {type(exc).__name__}")
        await self._record(delivery, answer, now or self.clock())

    async def _still_pending(self, delivery: Claimed) -> bool:
        """Whether a claimed delivery is still to be sent: a 410 or one refusal too many
        earlier in the batch, or an admin, may have disabled (or deleted) its subscription
        while it waited its turn, and then the receiver gets nothing more."""
        async with self.engine.connect() as connection:
            connection = await connection.execution_options(**READ_ONLY)
            found = await connection.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery.id,
                    WebhookDelivery.status == DeliveryStatus.PENDING.value,
                    WebhookDelivery.attempts == delivery.attempts,
                )
            )
        return bool(found)

    async def _send(self, sender: WebhookSender, delivery: Claimed) -> Answer:
        try:
            secret = self.box.open(delivery.sealed_secret)
        except UnreadableSecret:
            # A key was dropped from the settings too early: nothing is sent, and the
            # delivery waits (retried as usual) until the key is configured again.
            log.error(
                "webhook %s: no configured secret key opens its secret; restore the key "
                "that sealed it to GATEWAY_WEBHOOK_SECRET_KEYS",
                delivery.subscription_id,
            )
            return Answer(None, error="the subscription's secret cannot be opened")
        body = delivery.payload.encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": f"{CLOUDEVENTS_CONTENT_TYPE}; charset=utf-8",
            "Webhook-Id": str(delivery.event_id),
            "Webhook-Timestamp": str(timestamp),
            "Webhook-Signature": sign(secret, timestamp, body),
        }
        return await sender.post(delivery.url, body, headers)

    async def _record(self, delivery: Claimed, answer: Answer, now: datetime) -> None:
        verdict = Verdict.REFUSED if answer.target_refused else classify(answer.status_code)
        attempts = delivery.attempts + 1
        outcome: dict[str, object] = {
            "attempts": attempts,
            "last_attempt_at": now,
            "last_status_code": answer.status_code,
            "last_response": answer.response,
            "last_error": answer.error,
        }
        if verdict is Verdict.DELIVERED:
            outcome |= {"status": DeliveryStatus.DELIVERED.value, "next_attempt_at": None}
        elif verdict is Verdict.RETRY:
            retry_at = next_attempt_at(
                now,
                queued_at=delivery.created_at,
                attempts=attempts,
                retry_window=self.retry_window,
                retry_after=answer.retry_after,
            )
            outcome["next_attempt_at"] = retry_at
            if retry_at is None:
                outcome["status"] = DeliveryStatus.DEAD.value
        else:
            outcome |= {"status": DeliveryStatus.FAILED.value, "next_attempt_at": None}
        if outcome.get("status") in (None, DeliveryStatus.PENDING.value):
            label = "retry"
        else:
            outcome["finished_at"] = now
            label = {
                Verdict.DELIVERED: "delivered",
                Verdict.REFUSED: "refused",
                Verdict.GONE: "gone",
            }.get(verdict, "dead")
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery.id,
                    WebhookDelivery.status == DeliveryStatus.PENDING.value,
                    WebhookDelivery.attempts == delivery.attempts,
                )
                .values(**outcome)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return  # finished meanwhile (its subscription was disabled or deleted)
            await self._judge_subscription(session, delivery, answer, verdict, now)
        WEBHOOK_ATTEMPTS.labels(label).inc()

    async def _judge_subscription(
        self,
        session: AsyncSession,
        delivery: Claimed,
        answer: Answer,
        verdict: Verdict,
        now: datetime,
    ) -> None:
        subscriptions = WebhookSubscription
        mine = subscriptions.id == delivery.subscription_id
        if verdict is Verdict.DELIVERED:
            await session.execute(
                update(subscriptions)
                .where(mine, subscriptions.consecutive_failures > 0)
                .values(consecutive_failures=0)
            )
        elif verdict is Verdict.GONE:
            await disable_subscription(
                session, delivery.subscription_id, "the receiver answered 410 Gone", now
            )
        elif verdict is Verdict.REFUSED:
            failures = await session.scalar(
                update(subscriptions)
                .where(mine)
                .values(consecutive_failures=subscriptions.consecutive_failures + 1)
                .returning(subscriptions.consecutive_failures)
            )
            if failures is not None and failures >= self.settings.webhook_disable_after:
                last = answer.error or f"HTTP {answer.status_code}"
                reason = f"{failures} permanent failures in a row, the last: {last}"
                await disable_subscription(session, delivery.subscription_id, reason[:500], now)


async def disable_subscription(
    session: AsyncSession, subscription_id: uuid.UUID, reason: str, now: datetime
) -> None:
    """Stop a subscription: no new deliveries, and those still pending fail (a replay
    after enabling it again sends them)."""
    subscriptions = WebhookSubscription
    changed = await session.execute(
        update(subscriptions)
        .where(subscriptions.id == subscription_id, subscriptions.active.is_(True))
        .values(
            active=False,
            disabled_reason=reason,
            disabled_at=now,
            version=subscriptions.version + 1,
            updated_at=now,
        )
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        return
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
        )
        .values(
            status=DeliveryStatus.FAILED.value,
            next_attempt_at=None,
            finished_at=now,
            last_error=f"the subscription was disabled: {reason}"[:1000],
        )
    )


async def pending_deliveries(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        connection = await connection.execution_options(**READ_ONLY)
        count = await connection.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.status == DeliveryStatus.PENDING.value)
        )
    return int(count or 0)


async def refresh_backlog(engine: AsyncEngine) -> None:
    """Set the backlog gauge from the database (any process may serve it)."""
    WEBHOOK_BACKLOG.set(await pending_deliveries(engine))
