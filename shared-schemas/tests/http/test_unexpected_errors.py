"""Answers the shared layer gives for what no route handled: a failure inside the server is
a 500 problem+json carrying the request id (the details stay in the log), a body that is
not JSON is a 422 about the body, not about a character position, and a made-up method
is a 405 timed under `method="other"`, never a label of its own."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.identity import development_bearer

pytestmark = pytest.mark.contract


def app_of(package: str, tmp_path: Path) -> Any:
    main = importlib.import_module(f"{package}.main")
    config = importlib.import_module(f"{package}.config")
    return main.create_app(config.Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db"))


@pytest.mark.parametrize("package", ["crm", "erp", "gateway"])
async def test_a_failure_inside_the_server_is_a_500_problem_with_the_request_id(
    package: str, tmp_path: Path
) -> None:
    app = app_of(package, tmp_path)

    async def broken() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    app.add_api_route("/broken", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        answer = await client.get("/broken", headers={"X-Request-ID": "req-broken-1"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["x-request-id"] == "req-broken-1"
    body = answer.json()
    assert (body["status"], body["instance"]) == (500, "/broken")
    assert body["type"].endswith("/internal-error")
    assert "hunter2" not in answer.text
    assert "RuntimeError" not in answer.text


async def test_a_body_that_is_not_json_is_a_422_about_the_body(tmp_path: Path) -> None:
    app = app_of("crm", tmp_path)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        answer = await client.post(
            "/customers",
            content=b'{"kind": "company", "name": ',
            headers={**development_bearer("admin"), "Content-Type": "application/json"},
        )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in answer.json()["errors"]] == ["body"]


@pytest.mark.parametrize("package", ["crm", "erp"])
async def test_made_up_methods_are_counted_as_other(package: str, tmp_path: Path) -> None:
    app = app_of(package, tmp_path)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        refused = await client.request("FOO7", "/healthz")
        metrics = (await client.get("/metrics")).text
    assert refused.status_code == 405
    assert 'method="FOO7"' not in metrics
    assert 'method="other",route="/healthz",status="405"' in metrics
