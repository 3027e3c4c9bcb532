"""Entry points of the ERP service: `api`, `relay` and `consumer`, one process each.

With `ERP_RUN_WORKERS_IN_API=true` the API process runs the relay, the periodic jobs
and the consumer too, for the smallest deployments.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from erp.adapters.orm import messaging
from erp.adapters.people import Employee
from erp.api import routers
from erp.config import SERVICE_NAME, Settings
from erp.domain.people import TERMINATED
from erp.integration import handlers
from erp.service import overdue
from shared_schemas.database import session_factory
from shared_schemas.messaging import KafkaSettings, Workers
from shared_schemas.service import EntryPoints, create_service_app


def build_workers(engine: AsyncEngine, settings: Settings) -> Workers:
    return Workers(
        name=SERVICE_NAME,
        engine=engine,
        tables=messaging,
        kafka=KafkaSettings(),
        handlers=handlers(settings),
        jobs=overdue.periodic_jobs(session_factory(engine), settings),
        consumer_batch_size=settings.consumer_batch_size,
        consumer_group=settings.consumer_group,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = settings.engine()
    return create_service_app(
        service="erp",
        title="ERP service",
        description=__doc__ or "",
        settings=settings,
        engine=engine,
        workers=build_workers(engine, settings),
        routers=routers(),
        terminated_employees=select(Employee.id).where(Employee.status == TERMINATED),
    )


entry_points = EntryPoints("erp", Settings, create_app, build_workers)
api, relay, consumer = entry_points.api, entry_points.relay, entry_points.consumer
wait_for_schema = entry_points.wait_for_schema
