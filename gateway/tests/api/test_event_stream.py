"""`GET /api/events/stream`: Server-Sent Events of the gateway's event history, each role
seeing only what it may read, resumed after `Last-Event-ID` without repeats or gaps,
heartbeats while quiet, no stream outliving its token or its user's access, and nothing
left running once the client goes away. Events are
applied through the gateway's consumer path; the real broker is in the integration
tests."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from gateway.service import event_stream as stream_module
from gateway.service.event_stream import STREAMS_OPEN
from shared_schemas.events.base import CloudEvent
from shared_schemas.events.erp.employees import EmployeeHired
from shared_schemas.roles import Role
from tests.support.gateway import SIGNER
from tests.support.gateway_events import (
    EventStream,
    GatewayEvents,
    customer_created,
    event_stream,
    events_settings,
    gateway_events,
    headers,
    product_created,
    served,
    stock_low,
)
from tests.support.kafka_tools import eventually

pytestmark = pytest.mark.api


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[GatewayEvents]:
    async with gateway_events(events_settings(database_url)) as events:
        yield events


@pytest.fixture
async def base_url(hub: GatewayEvents) -> AsyncIterator[str]:
    async with served(hub.app) as url:
        yield url


async def received(stream: EventStream, count: int) -> list[tuple[int, str, str]]:
    """The next `count` events as (id, type, CloudEvent id)."""
    events = []
    for _ in range(count):
        message = await stream.next_event()
        assert message.id is not None
        assert message.event is not None
        assert message.cloud_event["type"] == message.event
        events.append((int(message.id), message.event, message.cloud_event["id"]))
    return events


def employee_hired() -> EmployeeHired:
    return EmployeeHired(
        version=1,
        employee_id=uuid.uuid4(),
        name="Ann Hire",
        email="ann.hire@example.com",
        department_id=None,
        manager_id=None,
        title=None,
        role=Role.SALES,
        hired_on=date(2026, 1, 5),
    )


def ids(events: list[CloudEvent[Any]]) -> list[str]:
    return [str(event.id) for event in events]


async def test_new_events_arrive_and_a_reconnect_resumes_after_the_last_id(
    hub: GatewayEvents, base_url: str
) -> None:
    await hub.publish(product_created())  # before connecting: not sent
    async with event_stream(base_url, "admin") as stream:
        first = await stream.next()
        assert first.retry == 3000, "the reconnection delay comes first"
        published = [await hub.publish(product_created()) for _ in range(3)]
        got = await received(stream, 3)
    assert [cloud_id for _, _, cloud_id in got] == ids(published)
    positions = [position for position, _, _ in got]
    assert positions == sorted(positions)
    assert len(set(positions)) == 3
    assert {kind for _, kind, _ in got} == {"erp.product.created.v1"}

    # Events keep coming while the client is away.
    later = [await hub.publish(stock_low()), await hub.publish(product_created())]
    resumed_after = str(positions[1])
    async with event_stream(base_url, "admin", last_event_id=resumed_after) as stream:
        got = await received(stream, 3)
        assert [cloud_id for _, _, cloud_id in got] == [ids(published)[2], *ids(later)]
        # Nothing else came before an event recorded afterwards.
        marker = await hub.publish(product_created())
        assert [cloud_id for _, _, cloud_id in await received(stream, 1)] == ids([marker])

    # The position may also travel in the query string.
    async with event_stream(base_url, "admin", after=got[1][0]) as stream:
        assert [cloud_id for _, _, cloud_id in await received(stream, 1)] == ids(later)[1:]
    # A position beyond the newest event (a history started afresh) continues from now.
    async with event_stream(base_url, "admin", last_event_id="999999") as stream:
        await stream.next()
        fresh = await hub.publish(product_created())
        assert [cloud_id for _, _, cloud_id in await received(stream, 1)] == [str(fresh.id)]


async def test_each_role_sees_only_the_events_it_may_read(
    hub: GatewayEvents, base_url: str
) -> None:
    async with (
        event_stream(base_url, "warehouse") as warehouse,
        event_stream(base_url, "sales") as sales,
        event_stream(base_url, "hr") as hr,
    ):
        customer = await hub.publish(customer_created(), source="crm-service")
        product = await hub.publish(product_created())
        low = await hub.publish(stock_low())

        assert [c for _, _, c in await received(warehouse, 2)] == ids([product, low])
        assert [c for _, _, c in await received(sales, 3)] == ids([customer, product, low])
        # Markers recorded afterwards, one each may read, arrive first: what came before
        # them and is not shown above was not sent.
        product_marker = await hub.publish(product_created())
        hired = await hub.publish(employee_hired())
        assert [c for _, _, c in await received(warehouse, 1)] == ids([product_marker])
        assert [c for _, _, c in await received(hr, 1)] == ids([hired])


async def test_the_types_asked_for_narrow_the_stream(hub: GatewayEvents, base_url: str) -> None:
    async with event_stream(
        base_url, "sales", types=["erp.stock.*", "crm.customer.created.v1"]
    ) as s:
        await hub.publish(product_created())
        customer = await hub.publish(customer_created(), source="crm-service")
        low = await hub.publish(stock_low())
        assert [c for _, _, c in await received(s, 2)] == ids([customer, low])


async def test_unknown_unreadable_and_unauthenticated_requests_are_refused(
    hub: GatewayEvents,
) -> None:
    client = hub.client
    unknown = await client.get(
        "/api/events/stream", params={"types": "erp.nothing.*"}, headers=headers("admin")
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [
        {"field": "query.types", "message": "no event type matches 'erp.nothing.*'"}
    ]
    hidden = await client.get(
        "/api/events/stream", params={"types": "crm.customer.*"}, headers=headers("warehouse")
    )
    assert hidden.status_code == 403
    assert "crm.customer.*" in hidden.json()["detail"]
    bad_position = await client.get(
        "/api/events/stream", headers={**headers("admin"), "Last-Event-ID": "yesterday"}
    )
    assert bad_position.status_code == 400
    assert (await client.get("/api/events/stream")).status_code == 401


async def test_a_last_event_id_in_other_digits_is_a_400_and_a_huge_one_continues_from_now(
    hub: GatewayEvents, base_url: str
) -> None:
    # `²` (byte 0xB2 of a header) and Arabic-Indic digits count as digits to Python's
    # str.isdigit, but are no id of this stream.
    for odd in (b"\xb2", "\u0661\u0662".encode()):
        refused = await hub.client.get(
            "/api/events/stream", headers=[*headers("admin").items(), (b"Last-Event-ID", odd)]
        )
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"][0]["field"] == "Last-Event-ID"
    # More digits than any id has (and than Python reads as a number) resumes from now.
    async with event_stream(base_url, "admin", last_event_id="9" * 5000) as stream:
        await stream.next()
        fresh = await hub.publish(product_created())
        assert [cloud_id for _, _, cloud_id in await received(stream, 1)] == [str(fresh.id)]


async def test_a_quiet_stream_sends_heartbeats(
    hub: GatewayEvents, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_module, "HEARTBEAT_SECONDS", 0.2)
    async with event_stream(base_url, "finance") as stream:
        assert (await stream.next()).retry == 3000
        assert (await stream.next(5)).comment == "keep-alive"
        assert (await stream.next(5)).comment == "keep-alive"


async def test_a_stream_ends_cleanly_when_the_client_goes_away(
    hub: GatewayEvents, base_url: str
) -> None:
    before = STREAMS_OPEN._value.get()
    async with event_stream(base_url, "admin") as stream:
        await stream.next()
        await eventually(lambda: _open(before + 1), timeout=5, what="the stream counted open")
        feed = hub.app.state.history_feed
        assert feed._task is not None, "the history is watched while a stream is open"
    await eventually(lambda: _open(before), timeout=10, what="the stream closed on the server")
    assert feed._task is None, "nothing watches the history once no stream is open"


async def _open(count: float) -> bool:
    return bool(STREAMS_OPEN._value.get() == count)


@contextlib.asynccontextmanager
async def stream_with(base_url: str, token: str) -> AsyncIterator[EventStream]:
    """The stream opened with `token` (instead of a role's usual one)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10, read=None)) as client:
        request = client.build_request(
            "GET", "/api/events/stream", headers={"Authorization": f"Bearer {token}"}
        )
        response = await client.send(request, stream=True)
        assert response.status_code == 200, (response.status_code, await response.aread())
        stream = EventStream(response)
        try:
            yield stream
        finally:
            await stream.close()


async def until_closed(stream: EventStream) -> tuple[str, list[str]]:
    """The comment the server sent last before it ended the stream, and the ids of the
    business events that came before it; fails when the stream is still open after 10 s."""
    events = []
    while True:
        message = await stream.next(10)
        if message.event is not None:
            events.append(message.cloud_event["id"])
        elif message.comment not in (None, "keep-alive"):
            assert message.comment is not None
            await eventually(lambda: _ended(stream), timeout=10, what="the server ended the stream")
            return message.comment, events


async def _ended(stream: EventStream) -> bool:
    return stream._reader.done()


async def test_a_stream_ends_when_its_token_expires(hub: GatewayEvents, base_url: str) -> None:
    token = SIGNER.issue(
        subject="user-short", roles=["admin"], employee_id=None, lifetime=timedelta(seconds=2)
    )
    async with stream_with(base_url, token) as stream:
        assert (await stream.next()).retry == 3000
        sent = await hub.publish(product_created())
        assert (await stream.next_event()).cloud_event["id"] == str(sent.id)
        # Quiet from here on: the token's expiry alone ends the stream (well before the
        # heartbeat is due).
        assert await until_closed(stream) == ("token expired", [])


async def an_admin_to_disable(hub: GatewayEvents) -> tuple[dict[str, Any], str]:
    """A streaming administrator and their token, beside another administrator so that
    the streamer is not the last one (who stays enabled)."""
    await hub.post(
        "/auth/users",
        {"username": "keeper", "password": "a long enough password 1", "roles": ["admin"]},
    )
    user = await hub.post(
        "/auth/users",
        {"username": "streamer", "password": "a long enough password 1", "roles": ["admin"]},
    )
    return user, SIGNER.issue(subject=user["id"], roles=["admin"], employee_id=None)


async def test_a_stream_ends_when_its_user_is_disabled(hub: GatewayEvents, base_url: str) -> None:
    user, token = await an_admin_to_disable(hub)
    async with stream_with(base_url, token) as stream:
        before = await hub.publish(product_created())
        assert (await stream.next_event()).cloud_event["id"] == str(before.id)

        disabled = await hub.client.patch(
            f"/auth/users/{user['id']}", json={"disabled": True}, headers=headers("admin")
        )
        assert disabled.status_code == 200, disabled.text
        await hub.publish(product_created())

        # The event recorded after the change does not reach the disabled user.
        assert await until_closed(stream) == ("access revoked", [])


async def test_a_quiet_stream_ends_soon_after_its_user_is_disabled(
    hub: GatewayEvents, base_url: str
) -> None:
    # No event arrives to wake the stream: it still ends within about the second the
    # gateway takes to learn of a disabling, not at the next heartbeat (15 s) or later.
    user, token = await an_admin_to_disable(hub)
    async with stream_with(base_url, token) as stream:
        assert (await stream.next()).retry == 3000
        disabled = await hub.client.patch(
            f"/auth/users/{user['id']}", json={"disabled": True}, headers=headers("admin")
        )
        assert disabled.status_code == 200, disabled.text

        last = await stream.next(5)
        assert (last.event, last.comment) == (None, "access revoked")
        await eventually(lambda: _ended(stream), timeout=5, what="the server ended the stream")


# --- open streams per user --------------------------------------------------------------


@contextlib.asynccontextmanager
async def capped(database_url: str, per_user: int) -> AsyncIterator[tuple[GatewayEvents, str]]:
    """The gateway allowing `per_user` open streams per user, served; (hub, base URL)."""
    settings = events_settings(database_url, event_streams_per_user=per_user)
    async with gateway_events(settings) as events, served(events.app) as url:
        yield events, url


async def refused_stream(base_url: str, role: str) -> httpx.Response:
    """A stream request that must not be served (its whole answer, read)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        request = client.build_request("GET", "/api/events/stream", headers=headers(role))
        response = await client.send(request, stream=True)
        try:
            assert response.status_code != 200, "the stream was served"
            await response.aread()
        finally:
            await response.aclose()
    return response


def slots_open(hub: GatewayEvents, role: str) -> int:
    slots = getattr(hub.app.state, "stream_slots", None)
    return 0 if slots is None else int(slots.open_for(f"user-{role}"))


async def until_slots_open(hub: GatewayEvents, role: str, count: int) -> None:
    async def settled() -> bool:
        return slots_open(hub, role) == count

    await eventually(settled, timeout=10, what=f"{count} streams of {role} open")


def test_a_user_may_open_five_streams_unless_configured_otherwise() -> None:
    assert events_settings("sqlite+aiosqlite:///:memory:").event_streams_per_user == 5


async def test_a_user_may_hold_only_so_many_streams_open(database_url: str) -> None:
    async with capped(database_url, 3) as (hub, url), contextlib.AsyncExitStack() as streams:
        opened = [await streams.enter_async_context(event_stream(url, "sales")) for _ in range(3)]
        for stream in opened:
            assert (await stream.next()).retry == 3000

        refused = await refused_stream(url, "sales")
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["Retry-After"]) > 0
        body = refused.json()
        assert body["type"] == "https://errors.crm-erp.dev/too-many-requests"
        assert body["status"] == 429
        assert "3 event streams" in body["detail"]
        text = refused.text.lower()
        for leak in ("traceback", "exception", "user-sales", "bearer"):
            assert leak not in text, leak
        assert slots_open(hub, "sales") == 3, "a refused request holds no slot"

        # Another user is not held back by this one.
        async with event_stream(url, "finance") as other:
            assert (await other.next()).retry == 3000

        # Once one of the three is closed, a new one is served; the cap holds again.
        await opened[0].close()
        await until_slots_open(hub, "sales", 2)
        async with event_stream(url, "sales") as again:
            assert (await again.next()).retry == 3000
            assert (await refused_stream(url, "sales")).status_code == 429
    await until_slots_open(hub, "sales", 0)


async def test_a_refused_request_holds_no_slot(database_url: str) -> None:
    async with capped(database_url, 1) as (hub, url):
        for _ in range(3):
            unknown = await hub.client.get(
                "/api/events/stream", params={"types": "erp.nothing.*"}, headers=headers("sales")
            )
            assert unknown.status_code == 422
            bad = await hub.client.get(
                "/api/events/stream", headers={**headers("sales"), "Last-Event-ID": "x"}
            )
            assert bad.status_code == 400
        assert slots_open(hub, "sales") == 0
        async with event_stream(url, "sales") as stream:
            assert (await stream.next()).retry == 3000


async def test_a_slot_is_freed_when_the_stream_ends_on_the_server(database_url: str) -> None:
    async with capped(database_url, 1) as (hub, url):
        token = SIGNER.issue(
            subject="user-admin", roles=["admin"], employee_id=None, lifetime=timedelta(seconds=2)
        )
        async with stream_with(url, token) as stream:
            assert await until_closed(stream) == ("token expired", [])
        await until_slots_open(hub, "admin", 0)
        async with event_stream(url, "admin") as stream:
            assert (await stream.next()).retry == 3000


async def test_a_slot_is_freed_when_the_stream_fails(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with capped(database_url, 1) as (hub, url):
        failing = True
        events_after = stream_module.events_after

        async def broken(*args: Any, **kwargs: Any) -> Any:
            if failing:
                raise RuntimeError("the history cannot be read")
            return await events_after(*args, **kwargs)

        monkeypatch.setattr(stream_module, "events_after", broken)
        async with event_stream(url, "admin") as stream:
            # Cut off, without a last comment.
            await eventually(lambda: _ended(stream), timeout=10, what="the stream to break")
        await until_slots_open(hub, "admin", 0)
        failing = False
        async with event_stream(url, "admin") as stream:
            assert (await stream.next()).retry == 3000


async def test_slots_are_freed_when_the_server_stops(database_url: str) -> None:
    settings = events_settings(database_url, event_streams_per_user=2)
    async with gateway_events(settings) as hub:
        server = served(hub.app)
        url = await server.__aenter__()
        streams = [event_stream(url, "admin") for _ in range(2)]
        try:
            for opening in streams:
                assert (await (await opening.__aenter__()).next()).retry == 3000
            assert slots_open(hub, "admin") == 2
            # Stops with the streams still open: past its grace period the server cancels
            # them (without waiting for them to unwind).
            await server.__aexit__(None, None, None)
            await until_slots_open(hub, "admin", 0)
            assert hub.app.state.history_feed._task is None
        finally:
            for opening in streams:
                await opening.__aexit__(None, None, None)


async def test_a_head_request_gets_the_stream_s_headers_and_holds_no_stream_open(
    database_url: str,
) -> None:
    async with capped(database_url, 2) as (hub, url):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            for _ in range(4):  # more than the cap: none of them kept its slot
                head = await client.head("/api/events/stream", headers=headers("sales"))
                assert head.status_code == 200, head.text
                assert head.headers["content-type"].startswith("text/event-stream")
                assert head.content == b""
        await until_slots_open(hub, "sales", 0)
        async with event_stream(url, "sales") as stream:
            assert (await stream.next()).retry == 3000
