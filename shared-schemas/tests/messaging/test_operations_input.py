"""The operations routes answer odd input with a 4xx, never a 500: ids and cursors past
what the database holds, and times before the first or after the last year UTC can place;
SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.messaging import KafkaSettings, Workers
from shared_schemas.service import create_service_app
from tests.support.identity import ProtectedSettings, development_bearer
from tests.support.probe import ProbeService

pytestmark = pytest.mark.integration


def cursor(key: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.fixture
async def client(
    engine: AsyncEngine, kafka: KafkaSettings, topic: str
) -> AsyncIterator[httpx.AsyncClient]:
    probe = ProbeService(topic)
    await probe.create_schema(engine)
    workers = Workers(name="probe", engine=engine, tables=probe.tables, kafka=kafka)
    app = create_service_app(
        service="crm",
        title="t",
        description="",
        settings=ProtectedSettings(),
        engine=engine,
        workers=workers,
        routers=[],
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    # A token minted here, not at import: one minted when the suite started could expire
    # before a long suite reaches these tests.
    admin = development_bearer("admin")
    async with httpx.AsyncClient(transport=transport, base_url="http://svc", headers=admin) as c:
        yield c


@pytest.mark.parametrize("letter_id", ["9223372036854775808", "99999999999999999999", "-1"])
async def test_replaying_an_id_no_dead_letter_can_have_is_a_404(
    client: httpx.AsyncClient, letter_id: str
) -> None:
    response = await client.post(f"/admin/dead-letters/{letter_id}/replay")
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == f"There is no dead letter {letter_id}."


@pytest.mark.parametrize("key", [[2**63], [10**30], [True], [0], [1, 2], ["1"]])
async def test_a_dead_letter_cursor_this_api_did_not_issue_is_a_422(
    client: httpx.AsyncClient, key: list[object]
) -> None:
    response = await client.get("/admin/dead-letters", params={"cursor": cursor(key)})
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["query.cursor"]
    # A cursor of a real page still works.
    assert (await client.get("/admin/dead-letters", params={"cursor": cursor([5])})).json() == {
        "items": [],
        "next_cursor": None,
    }


@pytest.mark.parametrize(
    "since",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-14:00",
        0,  # not 1970: a time is written, never counted in seconds
        "1700000000",
        "2026-11-30T08:00:00",  # whose 08:00?
    ],
)
async def test_republishing_since_a_time_outside_the_utc_years_or_not_written_as_one_is_a_422(
    client: httpx.AsyncClient, since: str | int
) -> None:
    response = await client.post("/admin/outbox/republish", json={"since": since})
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["since"]
    earliest = await client.post("/admin/outbox/republish", json={"since": "0001-01-01T00:00Z"})
    assert earliest.json() == {"republished": 0}
