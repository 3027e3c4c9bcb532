"""Entry points of the CRM service: `api`, `relay` and `consumer`, one process each.

With `CRM_RUN_WORKERS_IN_API=true` the API process runs the relay, the periodic jobs
and the consumer too, for the smallest deployments.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.adapters.orm import messaging
from crm.config import SERVICE_NAME, Settings
from shared_schemas.database import create_engine
from shared_schemas.messaging import KafkaSettings, Workers
from shared_schemas.service import (
    configure_logging,
    create_service_app,
    serve_api,
    serve_consumer,
    serve_relay,
)


def build_workers(engine: AsyncEngine) -> Workers:
    return Workers(name=SERVICE_NAME, engine=engine, tables=messaging, kafka=KafkaSettings())


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = create_engine(settings.database_url)
    return create_service_app(
        service="crm",
        title="CRM service",
        description=__doc__ or "",
        settings=settings,
        engine=engine,
        workers=build_workers(engine),
        routers=[],
    )


def api() -> None:
    settings = Settings()
    configure_logging(settings.log_level, "crm-api")
    serve_api(lambda: create_app(settings), settings)


def relay() -> None:
    settings = Settings()
    configure_logging(settings.log_level, "crm-relay")
    serve_relay(build_workers(create_engine(settings.database_url)), settings)


def consumer() -> None:
    settings = Settings()
    configure_logging(settings.log_level, "crm-consumer")
    serve_consumer(build_workers(create_engine(settings.database_url)), settings)
