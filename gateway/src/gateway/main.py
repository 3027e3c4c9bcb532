"""Entry point of the gateway, the one door frontend apps and other systems use:
authentication, roles, routing to the services, aggregated views, the live event stream
and webhooks."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.adapters.broker_probe import BrokerProbe
from gateway.adapters.orm import messaging
from gateway.api import public_routers, routers
from gateway.api.documents import OWN_DOCUMENT
from gateway.api.edge import install_edge
from gateway.api.health import install_health, refresh_consumer_gauge
from gateway.config import SERVICE_NAME, Settings
from gateway.identity import install_identity
from gateway.integration import handlers
from gateway.service.event_jobs import periodic_jobs
from gateway.service.webhook_delivery import refresh_backlog
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
        jobs=periodic_jobs(engine, settings),
        # The gateway's own routes write without the shared unit of work.
        idempotency_lease=None,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = settings.engine()
    workers = build_workers(engine, settings)
    broker = BrokerProbe(workers.kafka)
    app = create_service_app(
        service="gateway",
        title="CRM + ERP gateway",
        description=__doc__ or "",
        settings=settings,
        engine=engine,
        workers=workers,
        routers=routers(),
        public_routers=public_routers(),
        # The webhook backlog and the consumer's last event, read at each scrape whichever
        # process delivers or consumes; whether the broker answers (checked at most every
        # 15 s).
        refresh_metrics=[
            partial(refresh_backlog, engine),
            partial(refresh_consumer_gauge, engine),
            broker.refresh_gauge,
        ],
        # /openapi.json, /docs and /redoc merge the services' documents (api/documents.py).
        openapi_url=OWN_DOCUMENT,
        docs_url=None,
        redoc_url=None,
    )
    # /healthz?details=true: upstream circuits, the broker and the consumer's state
    # (api/health.py).
    install_health(app, broker)
    # The gateway verifies with its own keys and refuses disabled users' tokens.
    install_identity(app, settings)
    # Limits, CORS and the routes to the services, in front of the app (api/edge.py).
    install_edge(app, settings)
    return app


entry_points = EntryPoints("gateway", Settings, create_app, build_workers)
api = entry_points.api
relay = entry_points.relay
consumer = entry_points.consumer
wait_for_schema = entry_points.wait_for_schema
