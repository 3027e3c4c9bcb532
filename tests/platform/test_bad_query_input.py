"""Every list answers bad query input with a 422, never a 500: found from each service's
OpenAPI document, so new lists are checked without being listed here."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from shared_schemas.identity import development_signer
from shared_schemas.service import CompanySettings
from tests.support.harness import migrate

pytestmark = [pytest.mark.api, pytest.mark.contract]

NAIVE = "2026-01-01T00:00:00"


@asynccontextmanager
async def service_lists(
    package: str, tmp_path: Path, timezone: str = "UTC"
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str], list[tuple[str, set[str]]]]]:
    """A client of the service `package` on a migrated SQLite file, an admin's headers, and every
    list of the service (a GET without a path parameter) with the names of its query
    parameters, found from its OpenAPI document."""
    main = importlib.import_module(f"{package}.main")
    config = importlib.import_module(f"{package}.config")
    database_url = f"sqlite+aiosqlite:///{tmp_path}/x.db"
    await migrate(f"{package}-service", database_url)
    app = main.create_app(
        config.Settings(
            database_url=database_url,
            company=CompanySettings(timezone=timezone),
        )
    )
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
async def test_every_time_range_also_takes_days_and_refuses_anything_else_alike(
    package: str, tmp_path: Path
) -> None:
    checked = []
    async with service_lists(package, tmp_path) as (client, headers, lists):
        for path, names in lists:
            for name in sorted(
                names & {"created_from", "created_to", "occurred_from", "occurred_to"}
            ):
                for day in ("2026-11-01", "0001-01-01", "9999-12-31"):
                    response = await client.get(path, params={name: day}, headers=headers)
                    assert response.status_code == 200, f"{path}?{name}={day}: {response.text}"
                for bad in ("2026-02-30", "2026-11", "yesterday", NAIVE):
                    response = await client.get(path, params={name: bad}, headers=headers)
                    assert response.status_code == 422, f"{path}?{name}={bad}"
                    assert response.json()["errors"] == [
                        {
                            "field": f"query.{name}",
                            "message": "a date (2026-11-01) or a time with its zone "
                            "(2026-11-01T09:30:00+01:00)",
                        }
                    ]
                checked.append(f"{path}?{name}")
    assert checked, "no list with a time range found"


async def test_a_day_is_a_whole_day_of_the_company_s_calendar(tmp_path: Path) -> None:
    """`created_from` a day is from its first moment, `created_to` a day up to its last,
    in COMPANY_TIMEZONE: far east of UTC, a customer created now was created on the
    company's today, which may be UTC's tomorrow."""
    zone = "Pacific/Kiritimati"  # UTC+14
    async with service_lists("crm", tmp_path, zone) as (client, headers, _):
        created = await client.post(
            "/customers", json={"kind": "company", "name": "Line Islands Ltd"}, headers=headers
        )
        assert created.status_code == 201, created.text
        today = datetime.now(UTC).astimezone(ZoneInfo(zone)).date()
        day_before, day_after = today - timedelta(days=1), today + timedelta(days=1)

        async def found(**query: str) -> list[str]:
            page = await client.get("/customers", params=query, headers=headers)
            assert page.status_code == 200, page.text
            return [customer["name"] for customer in page.json()["items"]]

        assert await found(created_from=str(today), created_to=str(today)) == ["Line Islands Ltd"]
        assert await found(created_from=str(day_before), created_to=str(day_after)) != []
        assert await found(created_to=str(day_before)) == []
        assert await found(created_from=str(day_after)) == []


@pytest.mark.parametrize("package", ["crm", "erp"])
async def test_a_bound_beyond_the_calendar_in_utc_is_no_bound_or_one_nothing_passes(
    package: str, tmp_path: Path
) -> None:
    """Times at the calendar's edges that fall outside it in UTC, where databases compare
    them (the first day in a zone east of UTC, the last one west of it): every record is
    on one side of such a bound, so the list answers, never a 422 or a 500."""
    before, after = "0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"
    checked = []
    async with service_lists(package, tmp_path, "Pacific/Kiritimati") as (client, headers, lists):
        for path, names in lists:
            for name in sorted(
                names & {"created_from", "created_to", "occurred_from", "occurred_to"}
            ):
                for value in (before, after, "0001-01-01"):
                    response = await client.get(path, params={name: value}, headers=headers)
                    assert response.status_code == 200, f"{path}?{name}={value}: {response.text}"
                checked.append(f"{path}?{name}")
        assert checked, "no list with a time range found"
        if package != "crm":
            return
        created = await client.post(
            "/customers", json={"kind": "company", "name": "Edge Ltd"}, headers=headers
        )
        assert created.status_code == 201, created.text

        async def found(**query: str) -> list[str]:
            page = await client.get("/customers", params=query, headers=headers)
            assert page.status_code == 200, page.text
            return [customer["name"] for customer in page.json()["items"]]

        assert await found(created_from=before) == ["Edge Ltd"]
        assert await found(created_from="0001-01-01") == ["Edge Ltd"]
        assert await found(created_to=after) == ["Edge Ltd"]
        assert await found(created_to=before) == []
        assert await found(created_from=after) == []


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


@pytest.mark.parametrize("package", ["crm", "erp"])
async def test_a_time_range_bound_is_a_day_or_a_time_never_a_number(
    package: str, tmp_path: Path
) -> None:
    """`created_to=0.5` is no time: a 422 naming the parameter, where it was read as half a
    second after 1970-01-01 and listed nothing without a word."""
    checked = []
    async with service_lists(package, tmp_path) as (client, headers, lists):
        for path, names in lists:
            for name in sorted(n for n in names if n.endswith(("_from", "_to"))):
                if "month" in name:
                    continue
                for value in ("0.5", "1700000000", "2026-11-01x"):
                    response = await client.get(path, params={name: value}, headers=headers)
                    assert response.status_code == 422, f"{path}?{name}={value}: {response.text}"
                    fields = [error["field"] for error in response.json()["errors"]]
                    assert f"query.{name}" in fields, f"{path}?{name}={value}: {fields}"
                checked.append(f"{path}?{name}")
    assert checked, "no list with a time range found"
