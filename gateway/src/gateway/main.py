"""Entry point of the gateway, the one door frontend apps and other systems use.

This first version answers health, readiness and metrics and verifies tokens like every
service; authentication, routing, aggregation, the event stream and webhooks build on it.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.adapters.orm import messaging
from gateway.config import SERVICE_NAME, Settings
from shared_schemas.database import create_engine
from shared_schemas.messaging import KafkaSettings, Workers
from shared_schemas.service import EntryPoints, create_service_app


def build_workers(engine: AsyncEngine, settings: Settings) -> Workers:
    return Workers(
        name=SERVICE_NAME,
        engine=engine,
        tables=messaging,
        kafka=KafkaSettings(),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = create_engine(settings.database_url)
    return create_service_app(
        service="gateway",
        title="CRM + ERP gateway",
        description=__doc__ or "",
        settings=settings,
        engine=engine,
        workers=build_workers(engine, settings),
        routers=[],
    )


entry_points = EntryPoints("gateway", Settings, create_app, build_workers)
api = entry_points.api
