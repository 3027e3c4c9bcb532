"""Dead letters are kept, listed and replayed through the admin API, each replay reported
as applied, duplicate or superseded; real broker, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.events.base import new_event
from shared_schemas.messaging import KafkaSettings, Workers, ensure_topics
from shared_schemas.service import create_service_app
from tests.support.identity import ProtectedSettings, development_bearer
from tests.support.kafka_tools import eventually, produce_raw, read_topic, running
from tests.support.probe import ProbeService

pytestmark = pytest.mark.integration


async def test_dead_letters_are_listed_and_replayed_exactly_once(
    engine: AsyncEngine, kafka: KafkaSettings, topic: str
) -> None:
    probe = ProbeService(topic)
    await probe.create_schema(engine)
    group = f"probe-{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka, [(f"dlq.{group}", 3)])
    workers = Workers(
        name=group,
        engine=engine,
        tables=probe.tables,
        kafka=kafka,
        handlers={probe.event: probe.handler()},
    )
    consumer = workers.consumer()
    consumer.max_attempts, consumer.retry_base, consumer.max_backoff = 2, 0.05, 0.1

    stuck, stale = uuid.uuid4(), uuid.uuid4()
    probe.refused.update({stuck, stale})

    def event(probe_id: uuid.UUID, version: int) -> bytes:
        data = probe.event(probe_id=probe_id, seq=version, version=version)
        return new_event(data, source="t", actor="t").model_dump_json().encode()

    stale_v1 = event(stale, 1)
    await produce_raw(
        kafka,
        topic,
        [
            (b"m", b"{broken"),
            (str(stuck).encode(), event(stuck, 1)),
            (str(stale).encode(), stale_v1),
        ],
    )
    async with running(consumer):
        await eventually(lambda: dead_letters_logged(engine, probe, 3), what="3 dead letters")
        # The bug is fixed; stale's next version arrives and is applied normally.
        probe.refused.clear()
        await produce_raw(kafka, topic, [(str(stale).encode(), event(stale, 2))])
        await eventually(lambda: applied(engine, probe, 1), what="stale v2 applied")

    assert len(await read_topic(kafka, f"dlq.{group}")) == 3
    app = create_service_app(
        service="crm",
        title="t",
        description="",
        settings=ProtectedSettings(),
        engine=engine,
        workers=workers,
        routers=[],
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc"
    ) as client:
        assert (await client.get("/admin/dead-letters")).status_code == 401
        assert (
            await client.get("/admin/dead-letters", headers=development_bearer("sales"))
        ).status_code == 403
        admin = development_bearer("admin")
        first = await client.get("/admin/dead-letters", params={"limit": 2}, headers=admin)
        assert first.status_code == 200
        page = first.json()
        assert len(page["items"]) == 2
        assert page["next_cursor"]
        rest = await client.get(
            "/admin/dead-letters", params={"cursor": page["next_cursor"]}, headers=admin
        )
        letters = page["items"] + rest.json()["items"]
        assert rest.json()["next_cursor"] is None
        assert sorted(letter["reason"] for letter in letters) == ["failed", "failed", "malformed"]
        ids = [letter["id"] for letter in letters]
        assert ids == sorted(ids, reverse=True), "newest first, across pages"
        assert all(letter["status"] == "pending" for letter in letters)
        by_event = {letter["event_id"]: letter for letter in letters}
        stuck_letter = next(v for v in letters if v["key"] == str(stuck))
        stale_letter = next(v for v in letters if v["key"] == str(stale))
        malformed = next(v for v in letters if v["reason"] == "malformed")
        assert "refuses to be applied" in stuck_letter["error"]
        # A business rule's letter names the fields it refused, not only its summary.
        assert "probe_id: refused for now" in stuck_letter["error"]
        assert stuck_letter["attempts"] == 2
        assert json.loads(stale_v1)["id"] in by_event

        async def replay(letter: dict[str, Any]) -> httpx.Response:
            return await client.post(f"/admin/dead-letters/{letter['id']}/replay", headers=admin)

        assert (await replay(stuck_letter)).json()["outcome"] == "applied"
        assert (await probe.applied_versions(engine))[stuck] == [1]
        assert (await replay(stuck_letter)).json()["outcome"] == "duplicate"
        assert (await probe.applied_versions(engine))[stuck] == [1], "replayed twice, applied once"
        assert (await replay(stale_letter)).json()["outcome"] == "superseded"
        assert (await probe.applied_versions(engine))[stale] == [2], "v1 never overwrote v2"
        refused = await replay(malformed)
        assert refused.status_code == 409
        assert refused.headers["content-type"] == "application/problem+json"
        assert "malformed" in refused.json()["detail"]
        missing = await client.post("/admin/dead-letters/999999/replay", headers=admin)
        assert missing.status_code == 404
        assert "no dead letter 999999" in missing.json()["detail"]
        too_many = await client.get("/admin/dead-letters", params={"limit": 201}, headers=admin)
        assert too_many.status_code == 422
        assert [error["field"] for error in too_many.json()["errors"]] == ["query.limit"]
        bad_cursor = await client.get("/admin/dead-letters?cursor=%%%", headers=admin)
        assert bad_cursor.status_code == 422
        assert [error["field"] for error in bad_cursor.json()["errors"]] == ["query.cursor"]

        pending = await client.get("/admin/dead-letters?status=pending", headers=admin)
        assert [v["id"] for v in pending.json()["items"]] == [malformed["id"]]
        assert malformed["event_id"] is None
        done = await client.get(
            "/admin/dead-letters?status=applied&status=superseded", headers=admin
        )
        assert {(v["id"], v["status"]) for v in done.json()["items"]} == {
            (stuck_letter["id"], "applied"),
            (stale_letter["id"], "superseded"),
        }
        # The stuck probe was applied exactly once; the stale v1 never overwrote v2.
        assert await probe.applied_count(engine) == 2


async def dead_letters_logged(engine: AsyncEngine, probe: ProbeService, count: int) -> bool:
    async with engine.connect() as connection:
        total = await connection.execute(
            select(func.count()).select_from(probe.tables.dead_letters)
        )
        return int(total.scalar_one()) >= count


async def applied(engine: AsyncEngine, probe: ProbeService, count: int) -> bool:
    return await probe.applied_count(engine) >= count
