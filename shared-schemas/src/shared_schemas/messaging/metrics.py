"""Prometheus metrics of the messaging runtime (each process exports its own)."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import Counter, Gauge
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.database import READ_ONLY

OUTBOX_BACKLOG = Gauge("outbox_backlog", "Events recorded but not yet published")
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_unpublished_age_seconds", "Age of the oldest unpublished event"
)
EVENTS_PUBLISHED = Counter("events_published_total", "Events the relay published", ["topic"])
RELAY_RETRIES = Counter("relay_retries_total", "Relay publish attempts that failed")
RELAY_MISSING_TOPICS = Gauge(
    "relay_missing_topics", "Topics of pending events the cluster does not have yet", ["relay"]
)
EVENTS_APPLIED = Counter(
    "events_applied_total", "Events applied by a consumer", ["group", "event_type"]
)
EVENTS_DUPLICATE = Counter(
    "events_duplicate_total", "Redelivered events skipped by the inbox", ["group"]
)
EVENTS_SUPERSEDED = Counter(
    "events_superseded_total", "Events ignored because a newer version was applied", ["group"]
)
EVENTS_IGNORED = Counter(
    "events_ignored_total", "Events of types this consumer does not handle", ["group"]
)
CONSUMER_RETRIES = Counter("consumer_retries_total", "Failed attempts to apply an event", ["group"])
CONSUMER_MISSING_TOPICS = Gauge(
    "consumer_missing_topics",
    "Subscribed topics the cluster did not have at the consumer's last start",
    ["group"],
)
DEAD_LETTERS = Counter(
    "dead_letters_total", "Messages sent to the dead-letter topic", ["group", "reason"]
)
CONSUMER_LAG = Gauge(
    "consumer_lag", "Messages behind the partition's end", ["group", "topic", "partition"]
)
JOB_RUNS = Counter("periodic_job_runs_total", "Periodic job runs", ["job", "outcome"])


async def refresh_outbox_gauges(engine: AsyncEngine, outbox: Table) -> None:
    """Read the backlog and the oldest pending event's age from the database."""
    async with engine.connect() as connection:
        connection = await connection.execution_options(**READ_ONLY)
        count, oldest = (
            await connection.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(
                    outbox.c.published_at.is_(None)
                )
            )
        ).one()
    OUTBOX_BACKLOG.set(count)
    if oldest is None:
        OUTBOX_OLDEST_AGE.set(0)
        return
    if oldest.tzinfo is None:  # SQLite returns naive values for aware columns
        oldest = oldest.replace(tzinfo=UTC)
    OUTBOX_OLDEST_AGE.set(max(0.0, (datetime.now(UTC) - oldest).total_seconds()))
