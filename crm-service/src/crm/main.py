"""Entry points of the CRM service: `api`, `relay` and `consumer`, one process each.

With `CRM_RUN_WORKERS_IN_API=true` the API process runs the relay, the periodic jobs
and the consumer too, for the smallest deployments.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.adapters.orm import messaging
from crm.adapters.replicas import EmployeeReplica
from crm.api import routers
from crm.config import SERVICE_NAME, Settings
from crm.integration import handlers
from crm.service import quote_expiry, reassignment
from crm.service.customer_creation import customer_writer
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
        consumer_batch_size=settings.consumer_batch_size,
        consumer_group=settings.consumer_group,
        jobs=[
            *quote_expiry.periodic_jobs(session_factory(engine), settings),
            *reassignment.periodic_jobs(session_factory(engine), settings),
        ],
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = settings.engine()
    app = create_service_app(
        service="crm",
        title="CRM service",
        description=__doc__ or "",
        settings=settings,
        engine=engine,
        workers=build_workers(engine, settings),
        routers=routers(),
        # ERP's word on who has left, from the employee replica.
        terminated_employees=select(EmployeeReplica.id).where(
            EmployeeReplica.status == "terminated"
        ),
    )
    app.state.customer_writer = customer_writer(app.state.sessions, settings)
    return app


entry_points = EntryPoints("crm", Settings, create_app, build_workers)
api, relay, consumer = entry_points.api, entry_points.relay, entry_points.consumer
wait_for_schema = entry_points.wait_for_schema
