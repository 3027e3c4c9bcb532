"""Idempotency-Key across crashes: the transaction that makes a request's effect marks its
key, so a retry never runs an effect twice, and a key whose first attempt never took
effect is taken over by a retry once its lease has passed."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.batching import GroupCommit
from shared_schemas.database import session_factory
from shared_schemas.domain import Conflict
from shared_schemas.http.idempotency import Claim, current_claim
from shared_schemas.unit_of_work import UnitOfWork
from tests.support.identity import ProtectedSettings, development_bearer, shell_app
from tests.support.kafka_tools import until
from tests.support.probe import ProbeService

pytestmark = pytest.mark.api


class Effect(BaseModel):
    seq: int
    slow: bool = False
    refused_until_open: bool = False
    fail_after_commit: bool = False


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    probe: ProbeService
    engine: AsyncEngine
    gate: asyncio.Event

    async def post(self, path: str, key: str, **body: Any) -> httpx.Response:
        headers = {**development_bearer("admin"), "Idempotency-Key": key}
        return await self.client.post(path, json=body, headers=headers)

    async def effects(self, seq: int) -> int:
        probes = self.probe.probes
        async with self.engine.connect() as connection:
            query = select(func.count()).select_from(probes).where(probes.c.seq == seq)
            return int((await connection.execute(query)).scalar_one())

    async def claim_state(self, key: str) -> str | None:
        keys = self.probe.tables.idempotency_keys
        async with self.engine.connect() as connection:
            query = select(keys.c.state).where(keys.c.key == key)
            return (await connection.execute(query)).scalar_one_or_none()

    async def age_claim(self, key: str, by: timedelta = timedelta(minutes=2)) -> None:
        """The claim as a process that died a while ago left it."""
        keys = self.probe.tables.idempotency_keys
        async with self.engine.begin() as connection:
            await connection.execute(
                update(keys).where(keys.c.key == key).values(created_at=datetime.now(UTC) - by)
            )


def effects_router(
    probe: ProbeService, engine: AsyncEngine, settings: ProtectedSettings, gate: asyncio.Event
) -> APIRouter:
    """Routes whose effect is one probe row per request, written alone or in a batch."""
    sessions = session_factory(engine)

    class ProbeUnitOfWork(UnitOfWork[ProtectedSettings]):
        outbox = probe.outbox

    async def write(items: Sequence[tuple[int, Claim | None]]) -> Sequence[int]:
        async with ProbeUnitOfWork(sessions, settings) as uow:
            for seq, _ in items:
                await uow.session.execute(
                    insert(probe.probes).values(probe_id=uuid.uuid4(), seq=seq)
                )
            uow.serve(claim for _, claim in items if claim is not None)
        return [seq for seq, _ in items]

    writer = GroupCommit(write)
    router = APIRouter()

    @router.post("/effects", status_code=201)
    async def one(effect: Effect) -> dict[str, int]:
        if effect.slow:
            await gate.wait()
        if effect.refused_until_open and not gate.is_set():
            raise Conflict("Not now: the record is being changed; try again.")
        await write([(effect.seq, None)])
        if effect.fail_after_commit:
            raise RuntimeError("the process dies before its answer is stored")
        return {"seq": effect.seq}

    @router.post("/batched-effects", status_code=201)
    async def batched(effect: Effect) -> dict[str, int]:
        seq = await writer.submit((effect.seq, current_claim()))
        if effect.fail_after_commit:
            raise RuntimeError("the process dies before its answer is stored")
        return {"seq": seq}

    return router


def assert_problem(answer: httpx.Response, status: int, kind: str, words: str) -> None:
    """`answer` is the problem a client can act on: its status, its type and its reason."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert (problem["status"], problem["type"].rsplit("/", 1)[-1]) == (status, kind), problem
    assert words in problem["detail"], problem


@pytest.fixture
async def service(engine: AsyncEngine) -> AsyncIterator[Service]:
    probe = ProbeService("test.idempotency")
    await probe.create_schema(engine)
    gate, settings = asyncio.Event(), ProtectedSettings()
    routers = [effects_router(probe, engine, settings, gate)]
    app = shell_app(settings, engine, probe.tables, routers)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        yield Service(app, client, probe, engine, gate)


async def test_a_lost_answer_never_lets_the_retry_run_the_effect_again(service: Service) -> None:
    lost = await service.post("/effects", "k-lost", seq=1, fail_after_commit=True)
    assert lost.status_code == 500
    assert await service.effects(1) == 1
    assert await service.claim_state("k-lost") == "committed"

    # Within the lease the first attempt may still answer: the retry is asked to wait.
    soon = await service.post("/effects", "k-lost", seq=1, fail_after_commit=True)
    assert_problem(soon, 409, "idempotency-key-in-use", "still being processed")
    assert soon.headers["retry-after"] == "1"
    await service.age_claim("k-lost")
    later = await service.post("/effects", "k-lost", seq=1, fail_after_commit=True)
    assert_problem(later, 409, "idempotency-key-in-use", "took effect")
    assert "was lost" in later.json()["detail"]
    assert "retry-after" not in later.headers, "waiting would not bring the answer back"
    assert await service.effects(1) == 1


async def test_keys_of_a_batch_are_marked_in_the_batch_s_transaction(service: Service) -> None:
    keys = [f"k-batch-{seq}" for seq in range(4)]
    first = await asyncio.gather(
        *(
            service.post("/batched-effects", key, seq=10 + seq, fail_after_commit=True)
            for seq, key in enumerate(keys)
        )
    )
    assert [r.status_code for r in first] == [500] * 4
    assert [await service.claim_state(key) for key in keys] == ["committed"] * 4
    for key in keys:
        await service.age_claim(key)
    retried = await asyncio.gather(
        *(
            service.post("/batched-effects", key, seq=10 + seq, fail_after_commit=True)
            for seq, key in enumerate(keys)
        )
    )
    for answer in retried:
        assert_problem(answer, 409, "idempotency-key-in-use", "took effect")
    assert [await service.effects(10 + seq) for seq in range(4)] == [1] * 4


async def test_a_retry_takes_over_a_claim_whose_attempt_never_took_effect(
    service: Service,
) -> None:
    stuck = asyncio.create_task(service.post("/effects", "k-stuck", seq=2, slow=True))
    await until(lambda: service.claim_state("k-stuck"), lambda state: state, "claimed")

    running = await service.post("/effects", "k-stuck", seq=2, slow=True)
    assert_problem(running, 409, "idempotency-key-in-use", "still being processed")
    assert running.headers["retry-after"] == "1"
    assert await service.effects(2) == 0

    # The first attempt hangs past its lease (as one whose process died would):
    # the next retry runs the request.
    await service.age_claim("k-stuck")
    service.gate.set()
    retried = await service.post("/effects", "k-stuck", seq=2)
    # A different body is still refused, and does not take the claim over.
    assert_problem(retried, 422, "idempotency-key-reused", "different request")
    assert await service.effects(2) == 0
    retried = await service.post("/effects", "k-stuck", seq=2, slow=True)
    assert retried.status_code == 201, retried.text
    assert await service.effects(2) == 1

    # The first attempt wakes up: the key is no longer its own, so its write rolls back.
    superseded = await stuck
    assert_problem(superseded, 409, "conflict", "took over")
    assert await service.effects(2) == 1
    replayed = await service.post("/effects", "k-stuck", seq=2, slow=True)
    assert (replayed.status_code, replayed.headers["idempotent-replayed"]) == (201, "true")
    assert replayed.json() == {"seq": 2}


async def test_a_conflict_invites_the_retry_that_it_would_refuse_if_replayed(
    service: Service,
) -> None:
    refused = await service.post("/effects", "k-conflict", seq=4, refused_until_open=True)
    assert_problem(refused, 409, "conflict", "try again")
    assert await service.claim_state("k-conflict") is None  # nothing took effect, no claim

    service.gate.set()
    retried = await service.post("/effects", "k-conflict", seq=4, refused_until_open=True)
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    again = await service.post("/effects", "k-conflict", seq=4, refused_until_open=True)
    assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")
    # Whole, with its length, as the first answer: a proxy treats both alike.
    assert again.headers["content-length"] == str(len(again.content))
    assert again.json() == retried.json()
    assert await service.effects(4) == 1


async def post_bytes(service: Service, key: str, body: bytes) -> httpx.Response:
    headers = {
        **development_bearer("admin"),
        "Idempotency-Key": key,
        "Content-Type": "application/json",
    }
    return await service.client.post("/effects", content=body, headers=headers)


async def test_a_retry_sent_once_the_whole_answer_arrived_is_replayed(service: Service) -> None:
    """The answer's last part leaves once the key is settled: a client that has the whole
    answer and sends the request again (its own retry logic, a user's double click) gets
    it replayed, never "still being processed"."""
    body = b'{"seq": 6}'
    headers = {
        **development_bearer("admin"),
        "Idempotency-Key": "k-after",
        "content-type": "application/json",
    }
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/effects",
        "raw_path": b"/effects",
        "root_path": "",
        "query_string": b"",
        "server": ("service", 80),
        "client": ("127.0.0.1", 50000),
        "headers": [
            (name.lower().encode(), value.encode())
            for name, value in {**headers, "content-length": str(len(body))}.items()
        ],
    }
    received = [{"type": "http.request", "body": body, "more_body": False}]
    first: list[dict[str, Any]] = []
    retries: list[httpx.Response] = []

    async def receive() -> dict[str, Any]:
        return received.pop() if received else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        first.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            retries.append(await service.client.post("/effects", content=body, headers=headers))

    await service.app(scope, receive, send)

    assert first[0]["status"] == 201
    [retry] = retries
    assert (retry.status_code, retry.headers.get("idempotent-replayed")) == (201, "true")
    assert retry.json() == {"seq": 6}
    assert await service.effects(6) == 1


@pytest.mark.parametrize("spaces", [1, 3])
async def test_a_retry_is_replayed_however_the_bearer_token_is_spaced(
    service: Service, spaces: int
) -> None:
    """The key belongs to the caller the route knows: a token after several spaces (which
    the route's check reads) is the same caller, so the retry is replayed, not run again."""
    token = development_bearer("admin")["Authorization"].removeprefix("Bearer ")
    headers = {"Authorization": "Bearer" + " " * spaces + token, "Idempotency-Key": "k-spaced"}
    first = await service.client.post("/effects", json={"seq": 7}, headers=headers)
    again = await service.client.post("/effects", json={"seq": 7}, headers=headers)
    assert first.status_code == 201, first.text
    assert (again.status_code, again.headers.get("idempotent-replayed")) == (201, "true")
    assert await service.effects(7) == 1


async def test_the_same_json_in_another_order_or_layout_is_the_same_request(
    service: Service,
) -> None:
    first = await post_bytes(service, "k-layout", b'{"seq": 6, "slow": false}')
    assert first.status_code == 201, first.text
    again = await post_bytes(service, "k-layout", b'{\n  "slow" : false,\n  "seq" : 6\n}')
    assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")
    assert again.json() == first.json()
    # One member more is another request, even one that says what its default says.
    other = await post_bytes(service, "k-layout", b'{"seq": 6, "slow": false, "slow": false}')
    assert (other.status_code, other.headers["idempotent-replayed"]) == (201, "true")
    more = await post_bytes(
        service, "k-layout", b'{"seq": 6, "slow": false, "fail_after_commit": false}'
    )
    assert_problem(more, 422, "idempotency-key-reused", "different request")
    assert await service.effects(6) == 1


async def test_a_claim_that_holds_the_fingerprint_of_the_bytes_still_replays_them(
    service: Service,
) -> None:
    """Claims made before JSON bodies were compared as documents hold the fingerprint of
    the body's bytes: a retry of those bytes still replays."""
    body = b'{"seq":  7}'
    first = await post_bytes(service, "k-bytes", body)
    assert first.status_code == 201, first.text
    of_bytes = hashlib.sha256(b"POST\0/effects\0\0" + body).hexdigest()
    keys = service.probe.tables.idempotency_keys
    async with service.engine.begin() as connection:
        await connection.execute(
            update(keys).where(keys.c.key == "k-bytes").values(fingerprint=of_bytes)
        )
    again = await post_bytes(service, "k-bytes", body)
    assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")
    assert await service.effects(7) == 1


async def stored_fingerprint(service: Service, key: str) -> str:
    keys = service.probe.tables.idempotency_keys
    async with service.engine.connect() as connection:
        query = select(keys.c.fingerprint).where(keys.c.key == key)
        return str((await connection.execute(query)).scalar_one())


async def test_a_secret_in_the_body_leaves_no_trace_in_the_keys_table(service: Service) -> None:
    """A copy of the database must not let anyone check a guess at a password or a
    signing key against the fingerprints kept for a day: they are the same whatever the
    secret, in a JSON body (at any depth) and in a form alike."""
    first = await service.post("/effects", "k-secret-1", seq=8, password="hunter2")
    assert first.status_code == 201, first.text
    # The same request but for its secret, under another key: its effect runs again.
    other = await service.post("/effects", "k-secret-2", seq=8, password="another one")
    assert other.status_code == 201, other.text
    assert await stored_fingerprint(service, "k-secret-1") == await stored_fingerprint(
        service, "k-secret-2"
    )
    # A retry that changes only the secret is the same request: replayed, not run again.
    again = await service.post("/effects", "k-secret-1", seq=8, password="a third")
    assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")
    assert await service.effects(8) == 2
    # Any other member still tells requests apart.
    changed = await service.post("/effects", "k-secret-1", seq=9, password="hunter2")
    assert_problem(changed, 422, "idempotency-key-reused", "different request")

    nested = [
        await service.post("/effects", f"k-nested-{n}", seq=10, hook={"secret": secret})
        for n, secret in enumerate(("whsec_one", "whsec_two"))
    ]
    assert [answer.status_code for answer in nested] == [201, 201]
    assert await stored_fingerprint(service, "k-nested-0") == await stored_fingerprint(
        service, "k-nested-1"
    )

    headers = {**development_bearer("admin"), "Content-Type": "application/x-www-form-urlencoded"}
    for n, form in enumerate(
        (
            b"grant_type=refresh_token&refresh_token=rt-one",
            b"refresh_token=rt-two&grant_type=refresh_token",
        )
    ):
        answer = await service.client.post(
            "/effects", content=form, headers={**headers, "Idempotency-Key": f"k-form-{n}"}
        )
        assert answer.status_code == 422, answer.text  # the route takes JSON: a stored refusal
    assert await stored_fingerprint(service, "k-form-0") == await stored_fingerprint(
        service, "k-form-1"
    )
