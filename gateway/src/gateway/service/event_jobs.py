"""The periodic jobs of the event history and webhooks, each run once across replicas."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.config import Settings
from gateway.service.history import prune_history
from gateway.service.webhook_delivery import WebhookDispatcher
from shared_schemas.messaging import PeriodicJob

# Deliveries go out within a second or two of their event (the job runner ticks each
# second); retries wait far longer than that anyway.
DELIVERY_INTERVAL = timedelta(seconds=1)


def periodic_jobs(engine: AsyncEngine, settings: Settings) -> list[PeriodicJob]:
    dispatcher = WebhookDispatcher(engine, settings)
    keep = timedelta(days=settings.event_history_days)

    async def prune() -> int:
        return await prune_history(engine, keep)

    return [
        PeriodicJob("deliver-webhooks", DELIVERY_INTERVAL, dispatcher.run),
        PeriodicJob("prune-event-history", timedelta(hours=1), prune),
    ]
