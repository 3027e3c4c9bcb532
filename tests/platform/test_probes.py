"""Every app answers health, readiness and metrics without a token, speaks problem+json,
carries X-Request-ID, and reports unready (503, quickly) when its database is away."""

from __future__ import annotations

import asyncio
import importlib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from shared_schemas.broker import free_port
from tests.support.harness import migrate

pytestmark = pytest.mark.api

APPS = {"crm": "crm-service", "erp": "erp-service", "gateway": "gateway"}


def app_for(package: str, database_url: str) -> FastAPI:
    main = importlib.import_module(f"{package}.main")
    config = importlib.import_module(f"{package}.config")
    factory: Callable[[Any], FastAPI] = main.create_app
    return factory(config.Settings(database_url=database_url))


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


@pytest.mark.parametrize("package", APPS)
async def test_probes_answer_without_a_token(package: str, database_url: str) -> None:
    await migrate(APPS[package], database_url)
    async with client_for(app_for(package, database_url)) as client:
        alive = await client.get("/healthz")
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert metrics.status_code == 200, metrics.text
    assert metrics.headers["content-type"].startswith("text/plain")
    for name in ("outbox_backlog", "outbox_oldest_unpublished_age_seconds", "consumer_lag"):
        assert f"# TYPE {name} gauge" in metrics.text
    for name in ("events_published", "events_applied", "dead_letters", "consumer_retries"):
        assert f"# TYPE {name}_total counter" in metrics.text


@pytest.mark.parametrize("package", APPS)
async def test_request_id_is_echoed_or_generated(package: str, tmp_path: Path) -> None:
    async with client_for(app_for(package, f"sqlite+aiosqlite:///{tmp_path}/x.db")) as client:
        echoed = await client.get("/healthz", headers={"X-Request-ID": "req-123"})
        assert echoed.headers["x-request-id"] == "req-123"
        generated = await client.get("/healthz")
        other = await client.get("/healthz")
        # Ids travel into logs and event headers: anything but a plain token is replaced.
        hostile = ("a b\r\nX-Injected: 1" * 3).replace("\r\n", ";")
        replaced = await client.get("/healthz", headers={"X-Request-ID": hostile})
    assert str(uuid.UUID(generated.headers["x-request-id"])) == generated.headers["x-request-id"]
    assert other.headers["x-request-id"] != generated.headers["x-request-id"], "one per request"
    assert replaced.headers["x-request-id"] != hostile
    assert str(uuid.UUID(replaced.headers["x-request-id"])) == replaced.headers["x-request-id"]
    assert "x-injected" not in replaced.headers


@pytest.mark.parametrize("package", APPS)
async def test_unknown_route_is_a_problem_document(package: str, tmp_path: Path) -> None:
    async with client_for(app_for(package, f"sqlite+aiosqlite:///{tmp_path}/x.db")) as client:
        response = await client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404
    assert response.json()["title"] == "Not Found"


@pytest.mark.parametrize("package", APPS)
async def test_unready_with_503_when_the_database_is_down(package: str) -> None:
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gone"
    async with client_for(app_for(package, nowhere)) as client:
        # A deadline, not a measurement: readiness must answer, not hang on the database.
        ready = await asyncio.wait_for(client.get("/readyz"), 10)
        alive = await client.get("/healthz")
        metrics = await client.get("/metrics")
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.json()["detail"] == "The database is unreachable."
    assert alive.status_code == 200, "the process itself is alive"
    assert metrics.status_code == 200, "metrics are served while the database is away"
