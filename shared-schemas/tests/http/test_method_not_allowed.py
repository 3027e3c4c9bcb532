"""A method a path does not answer is a 405 problem whose `Allow` names every method the
path answers (RFC 9110 §15.5.6), in each of the three apps; every GET path answers HEAD
as it answers GET, without the body."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.contract

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
AN_ID = "00000000-0000-4000-8000-000000000001"


def app_of(package: str, tmp_path: Path) -> Any:
    main = importlib.import_module(f"{package}.main")
    config = importlib.import_module(f"{package}.config")
    return main.create_app(config.Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db"))


@pytest.mark.parametrize("package", ["crm", "erp", "gateway"])
async def test_a_405_names_every_method_of_the_path(package: str, tmp_path: Path) -> None:
    app = app_of(package, tmp_path)
    answered = {
        re.sub(r"\{[^}]+\}", AN_ID, path): sorted(
            [method.upper() for method in operations] + (["HEAD"] if "get" in operations else [])
        )
        for path, operations in app.openapi()["paths"].items()
    }
    assert answered, "no path documented: nothing would be checked"
    transport = httpx.ASGITransport(app=app)
    wrong = []
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        for path, methods in answered.items():
            unanswered = next(method for method in METHODS if method not in methods)
            response = await client.request(unanswered, path)
            assert response.status_code == 405, (unanswered, path, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            allowed = sorted(response.headers["allow"].split(", "))
            if allowed != methods:
                wrong.append(f"{unanswered} {path}: Allow {allowed}, answers {methods}")
    assert wrong == []


@pytest.mark.parametrize("package", ["crm", "erp", "gateway"])
async def test_every_get_path_answers_head_as_it_answers_get_without_the_body(
    package: str, tmp_path: Path
) -> None:
    app = app_of(package, tmp_path)
    paths = [
        re.sub(r"\{[^}]+\}", AN_ID, path)
        for path, operations in app.openapi()["paths"].items()
        if "get" in operations
    ]
    assert "/healthz" in paths
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        for path in paths:
            got, head = await client.get(path), await client.head(path)
            assert head.status_code == got.status_code, (path, head.status_code, got.text)
            assert head.content == b"", path
            assert head.headers.get("content-type") == got.headers.get("content-type"), path
        # Through the request metrics, HEAD is counted as itself, by its route.
        metrics = (await client.get("/metrics")).text
        assert 'method="HEAD",route="/healthz",status="200"' in metrics
