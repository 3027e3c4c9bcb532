"""The periodic jobs of the event history and webhooks, each run once across replicas."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.config import Settings
from gateway.service.history import prune_history
from gateway.service.webhook_delivery import WebhookDispatcher
from gateway.service.webhook_secrets import secret_box_for
from gateway.service.webhooks import reseal_secrets
from shared_schemas.database import session_factory
from shared_schemas.messaging import PeriodicJob

# Deliveries go out within a second or two of their event (the job runner ticks each
# second); retries wait far longer than that anyway.
DELIVERY_INTERVAL = timedelta(seconds=1)
RESEAL_INTERVAL = timedelta(minutes=10)


def periodic_jobs(engine: AsyncEngine, settings: Settings) -> list[PeriodicJob]:
    dispatcher = WebhookDispatcher(engine, settings)
    keep = timedelta(days=settings.event_history_days)

    box = secret_box_for(settings)

    async def prune() -> int:
        return await prune_history(engine, keep)

    async def reseal() -> int:
        return await reseal_secrets(session_factory(engine), box)

    return [
        PeriodicJob("deliver-webhooks", DELIVERY_INTERVAL, dispatcher.run),
        PeriodicJob("prune-event-history", timedelta(hours=1), prune),
        # After a key rotation, every secret is under the new key within this interval.
        PeriodicJob("reseal-webhook-secrets", RESEAL_INTERVAL, reseal),
    ]
