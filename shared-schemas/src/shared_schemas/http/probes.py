"""`/healthz`, `/readyz` and `/metrics`, the three routes that need no token."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.database import READ_ONLY
from shared_schemas.http.problems import Problem

MetricsRefresher = Callable[[], Awaitable[None]]


def probes_router(
    engine: AsyncEngine, *, refresh_metrics: MetricsRefresher | None = None
) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get(
        "/healthz",
        summary="The process is alive",
        responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
    )
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="The service's own database answers",
        responses={
            200: {"content": {"application/json": {"example": {"status": "ready"}}}},
            503: {"description": "The database is unreachable"},
        },
    )
    async def readyz() -> dict[str, str]:
        # A broker outage does not make a service unready: the outbox buffers events.
        try:
            async with engine.connect() as connection:
                connection = await connection.execution_options(**READ_ONLY)
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            raise Problem(
                503, "The database is unreachable.", kind="dependency-unavailable"
            ) from exc
        return {"status": "ready"}

    @router.get("/metrics", summary="Prometheus metrics of this process", response_class=Response)
    async def metrics() -> Response:
        if refresh_metrics is not None:
            # Stale gauges beat a failed scrape while the database is away.
            with contextlib.suppress(Exception):
                await refresh_metrics()
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
