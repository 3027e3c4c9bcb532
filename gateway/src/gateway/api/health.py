"""The gateway's liveness probe with details: `GET /healthz?details=true` adds the circuit
of each service it routes to, whether the Kafka brokers answer (adapters/broker_probe.py)
and the state of its event consumer, as seen from its own database. None of them ever
makes the gateway unhealthy or unready: an upstream that is down is what the breaker is
for, a broker that is away leaves events waiting in the services' outboxes, and a stalled
consumer is caught up from the broker later. `/healthz` without details is the same cheap
answer every service gives (no I/O), which is what the orchestrator's liveness probe
calls."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.openapi.utils import get_openapi
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.adapters.broker_probe import BrokerProbe
from gateway.adapters.metrics import LAST_EVENT_RECEIVED
from gateway.adapters.upstream import Upstream
from gateway.service.history import latest_received_at
from gateway.service.webhook_delivery import pending_deliveries
from shared_schemas.http.openapi import describe_conventions

log = logging.getLogger(__name__)

# Installed by `install_health`, in place of the shared `/healthz` (not discovered).
liveness_router = APIRouter(tags=["operations"])
public_router = APIRouter(tags=["operations"])

_UPSTREAMS_EXAMPLE = {"crm": {"circuit": "closed"}, "erp": {"circuit": "open"}}
_DETAILS_EXAMPLE = {
    "status": "ok",
    "upstreams": _UPSTREAMS_EXAMPLE,
    "broker": {"state": "ok", "checked_at": "2026-03-02T09:15:04Z"},
    "consumer": {
        "state": "ok",
        "last_event_received_at": "2026-03-02T09:15:00Z",
        "webhook_backlog": 0,
    },
}


@liveness_router.get(
    "/healthz",
    operation_id="gateway_healthz",
    summary="The gateway is alive; with details, its upstreams' circuits, the broker and its "
    "consumer",
    responses={
        200: {
            "content": {
                "application/json": {
                    "examples": {
                        "plain": {"value": {"status": "ok"}},
                        "details": {"value": _DETAILS_EXAMPLE},
                    }
                }
            }
        }
    },
)
async def healthz(
    request: Request,
    details: Annotated[
        bool,
        Query(
            description="Add the upstream circuits, whether the broker answers (checked at "
            "most every 15 s) and the event consumer's state."
        ),
    ] = False,
) -> dict[str, Any]:
    if not details:
        return {"status": "ok"}
    broker: BrokerProbe = request.app.state.broker_probe
    return {
        "status": "ok",
        "upstreams": circuits(request.app.state.upstreams),
        "broker": (await broker.state()).as_details(),
        "consumer": await consumer_state(request.app.state.engine),
    }


@public_router.get(
    "/healthz/upstreams",
    summary="The circuit breaker of each upstream service",
    responses={
        200: {
            "content": {
                "application/json": {"example": {"status": "ok", "upstreams": _UPSTREAMS_EXAMPLE}}
            }
        }
    },
)
async def upstream_health(request: Request) -> dict[str, object]:
    return {"status": "ok", "upstreams": circuits(request.app.state.upstreams)}


def circuits(upstreams: Mapping[str, Upstream]) -> dict[str, dict[str, str]]:
    return {name: {"circuit": upstream.breaker_state.label} for name, upstream in upstreams.items()}


async def consumer_state(engine: AsyncEngine) -> dict[str, Any]:
    """When the consumer last recorded an event, and the webhook deliveries still to make;
    `unknown` while the database does not answer."""
    try:
        last = await latest_received_at(engine)
        backlog = await pending_deliveries(engine)
    except (SQLAlchemyError, OSError) as exc:
        log.warning("health details: the database is unavailable: %s", exc)
        return {"state": "unknown", "detail": "The gateway's database is unreachable."}
    return {
        "state": "ok",
        # Rendered by the app's JSON encoding (pydantic's), as every time the APIs answer.
        "last_event_received_at": last,
        "webhook_backlog": backlog,
    }


async def refresh_consumer_gauge(engine: AsyncEngine) -> None:
    """Set the consumer's freshness gauge from the database (read at each scrape)."""
    last = await latest_received_at(engine)
    if last is not None:
        LAST_EVENT_RECEIVED.set(last.timestamp())


def install_health(app: FastAPI, broker: BrokerProbe) -> None:
    """Answer `/healthz` with this module's probe instead of the shell's: placed first, it
    is the one matched, and its description replaces the shell's in the API document. A
    check of the broker still running at shutdown is cancelled."""
    app.state.broker_probe = broker
    for route in reversed(liveness_router.routes):
        app.router.routes.insert(0, route)
    own = get_openapi(title=app.title, version=app.version, routes=liveness_router.routes)
    shell_document = app.openapi
    built: dict[str, Any] = {}

    def document() -> dict[str, Any]:
        if not built:
            schema = shell_document()
            schema["paths"]["/healthz"] = own["paths"]["/healthz"]
            built.update(describe_conventions(schema))  # as the shell's routes are
        return built

    app.openapi = document  # type: ignore[method-assign]
    started = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(running: Any) -> AsyncIterator[Any]:
        try:
            async with started(running) as state:
                yield state
        finally:
            await broker.close()

    app.router.lifespan_context = lifespan
