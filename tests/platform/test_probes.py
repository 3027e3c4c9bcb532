"""Every app answers health, readiness and metrics without a token, speaks problem+json,
carries X-Request-ID, and reports unready (503, quickly) when its database is away."""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI

from shared_schemas.broker import free_port

pytestmark = pytest.mark.api

ROOT = Path(__file__).resolve().parents[2]
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
    config = Config(str(ROOT / APPS[package] / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", database_url)
    await asyncio.to_thread(command.upgrade, config, "head")
    async with client_for(app_for(package, database_url)) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/readyz")).json() == {"status": "ready"}
        metrics = await client.get("/metrics")
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
        assert len(generated.headers["x-request-id"]) == 36
        # Ids travel into logs and event headers: anything but a plain token is replaced.
        hostile = "a b\r\nX-Injected: 1" * 3
        replaced = await client.get(
            "/healthz", headers={"X-Request-ID": hostile.replace("\r\n", ";")}
        )
        assert len(replaced.headers["x-request-id"]) == 36


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
        started = time.monotonic()
        ready = await client.get("/readyz")
        elapsed = time.monotonic() - started
        alive = await client.get("/healthz")
        metrics = await client.get("/metrics")
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.json()["detail"] == "The database is unreachable."
    assert elapsed < 10, "readiness must answer, not hang"
    assert alive.status_code == 200, "the process itself is alive"
    assert metrics.status_code == 200, "metrics are served while the database is away"
