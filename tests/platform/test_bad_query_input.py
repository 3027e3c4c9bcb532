"""Every list answers bad query input with a 422, never a 500: found from each service's
OpenAPI document, so new lists are checked without being listed here."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from shared_schemas.identity import development_signer

pytestmark = [pytest.mark.api, pytest.mark.contract]

NAIVE = "2026-01-01T00:00:00"


@asynccontextmanager
async def service_lists(
    package: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str], list[tuple[str, set[str]]]]]:
    """A client of the service `package` on a SQLite file, an admin's headers, and every
    list of the service (a GET without a path parameter) with the names of its query
    parameters, found from its OpenAPI document."""
    main = importlib.import_module(f"{package}.main")
    config = importlib.import_module(f"{package}.config")
    app = main.create_app(config.Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db"))
    token = development_signer().issue(subject="admin", roles=["admin"], employee_id=None)
    found = [
        (path, {p["name"] for p in operations["get"].get("parameters", [])})
        for path, operations in app.openapi()["paths"].items()
        if "get" in operations and "{" not in path
    ]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc"
    ) as client:
        yield client, {"Authorization": f"Bearer {token}"}, found


@pytest.mark.parametrize("package", ["crm", "erp"])
async def test_a_time_without_zone_is_422_on_every_list(package: str, tmp_path: Path) -> None:
    checked = []
    async with service_lists(package, tmp_path) as (client, headers, lists):
        for path, names in lists:
            for name in sorted(names & {"created_from", "created_to", "occurred_from"}):
                response = await client.get(f"{path}?{name}={NAIVE}", headers=headers)
                assert response.status_code == 422, f"{path}?{name}: {response.status_code}"
                assert response.json()["errors"][0]["field"].endswith(name)
                checked.append(f"{path}?{name}")
    assert checked, "no list with a time range found"


@pytest.mark.parametrize("package", ["crm", "erp"])
async def test_every_list_names_a_bad_query_parameter_as_query_dot_name(
    package: str, tmp_path: Path
) -> None:
    """A refused `limit`, `sort` or `cursor` is named alike (`query.limit`), whether the
    framework or the listing refuses it."""
    bad = {"limit": "0", "sort": "no_such_field", "cursor": "not-a-cursor"}
    checked = set()
    async with service_lists(package, tmp_path) as (client, headers, lists):
        for path, names in lists:
            for name in sorted(names & bad.keys()):
                response = await client.get(path, params={name: bad[name]}, headers=headers)
                assert response.status_code == 422, f"{path}?{name}: {response.status_code}"
                fields = [error["field"] for error in response.json()["errors"]]
                assert fields == [f"query.{name}"], f"{path}?{name}: {fields}"
                checked.add(name)
    assert checked == bad.keys(), f"lists found with only {sorted(checked)}"
