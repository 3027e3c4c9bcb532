"""A service whose database goes away answers 503 problem+json with Retry-After (never a
500, never a hang), writes nothing, and serves again by itself once the database is back.
The outage is a TCP proxy in front of PostgreSQL that the test cuts (connections
refused and reset) or freezes (connections held open, nothing answered) and restores, a
PostgreSQL server of the test's own that is shut down or crashed and started again (the
shared server itself is never touched), or on SQLite another process holding the write
lock."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from erp.config import Settings
from erp.main import create_app
from tests.support.databases import fresh_postgres_database, postgres_admin_url, postgres_required
from tests.support.erp import migrate
from tests.support.harness import upgrade
from tests.support.identity import jwks_of, new_signer
from tests.support.kafka_tools import until
from tests.support.network import TcpProxy
from tests.support.pg_cluster import StopMode, postgres_cluster

# Comfortably under the gateway's 30 s upstream read timeout: a request the database
# never answers must come back as the service's own 503, not as a gateway 504.
ANSWERED_WITHIN = 15.0

pytestmark = pytest.mark.reliability

SIGNER = new_signer("outage-test-key")


@contextlib.asynccontextmanager
async def erp_behind_proxy(
    **settings: float,
) -> AsyncIterator[tuple[httpx.AsyncClient, TcpProxy]]:
    admin_url = postgres_admin_url()
    if admin_url is None:
        if postgres_required():
            pytest.fail("TEST_POSTGRES_URL is set but PostgreSQL does not answer")
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    async with fresh_postgres_database(admin_url) as direct_url:
        await migrate(direct_url)
        url = make_url(direct_url)
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        await proxy.restore()
        through = url.set(host="127.0.0.1", port=proxy.port)
        app = create_app(
            Settings(
                database_url=through.render_as_string(hide_password=False),
                jwks=json.dumps(jwks_of(SIGNER)),
                **settings,
            )
        )
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://erp") as client:
                yield client, proxy
        finally:
            await proxy.close()
            await app.state.engine.dispose()


def as_admin() -> dict[str, str]:
    token = SIGNER.issue(subject="user-admin", roles=["admin"], employee_id=None)
    return {"Authorization": f"Bearer {token}"}


def product(sku: str) -> dict[str, str]:
    return {"sku": sku, "name": sku, "unit_price": "10.00", "tax_rate": "19", "cost": "4.00"}


async def test_a_database_outage_is_a_503_that_heals_by_itself() -> None:
    async with erp_behind_proxy() as (client, proxy):
        created = await client.post("/products", json=product("BEFORE"), headers=as_admin())
        assert created.status_code == 201, created.text

        await proxy.cut()
        # An outage is answered, not waited out: each request within its deadline.
        listed = await answered(client.get("/products", headers=as_admin()))
        refused = await answered(
            client.post("/products", json=product("DURING"), headers=as_admin())
        )
        # A retried request's key is claimed in the database too: refused alike.
        keyed = {**as_admin(), "Idempotency-Key": "outage-retry-1"}
        refused_keyed = await answered(
            client.post("/products", json=product("KEYED"), headers=keyed)
        )
        for response in (listed, refused, refused_keyed):
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert int(response.headers["retry-after"]) > 0
            assert "Traceback" not in response.text

        await proxy.restore()
        assert await until_listed(client) == ["BEFORE"]
        again = await client.post("/products", json=product("AFTER"), headers=as_admin())
        assert again.status_code == 201, again.text
        retried = await client.post("/products", json=product("KEYED"), headers=keyed)
        assert retried.status_code == 201, retried.text
        assert "idempotent-replayed" not in retried.headers


async def until_listed(client: httpx.AsyncClient) -> list[str]:
    """The products' SKUs, once the service lists them again (polled, with a deadline)."""
    listed: httpx.Response = await until(
        lambda: client.get("/products", headers=as_admin()),
        lambda response: response.status_code == 200,
        "the products listed again",
    )
    return [p["sku"] for p in listed.json()["items"]]


async def answered(request: Awaitable[httpx.Response]) -> httpx.Response:
    try:
        return await asyncio.wait_for(request, ANSWERED_WITHIN)
    except TimeoutError:
        pytest.fail(f"no answer within {ANSWERED_WITHIN} s: the request hangs on the database")


def assert_outage_answer(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0


async def test_a_database_that_stops_answering_is_a_503_not_a_hang() -> None:
    async with erp_behind_proxy(database_timeout=2) as (client, proxy):
        created = await client.post("/products", json=product("BEFORE"), headers=as_admin())
        assert created.status_code == 201, created.text

        proxy.freeze()
        # The list finds its pooled connection frozen; the write needs a second, new
        # connection, which the frozen server accepts and never answers.
        for request in (
            client.get("/products", headers=as_admin()),
            client.post("/products", json=product("DURING"), headers=as_admin()),
        ):
            assert_outage_answer(await answered(request))

        proxy.thaw()
        assert await until_listed(client) == ["BEFORE"]
        again = await client.post("/products", json=product("AFTER"), headers=as_admin())
        assert again.status_code == 201, again.text
        assert sorted(await until_listed(client)) == ["AFTER", "BEFORE"]


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_a_database_server_restarted_under_the_service_is_a_503_then_serves_again(
    mode: StopMode,
) -> None:
    async with postgres_cluster() as server:
        await upgrade("erp-service", server.url)
        settings = Settings(database_url=server.url, jwks=json.dumps(jwks_of(SIGNER)))
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://erp") as client:
                created = await client.post("/products", json=product("BEFORE"), headers=as_admin())
                assert created.status_code == 201, created.text

                # fast: the server ends the pooled session (57P01); immediate: a crash.
                await server.stop(mode)
                for request in (
                    client.get("/products", headers=as_admin()),
                    client.post("/products", json=product("DURING"), headers=as_admin()),
                ):
                    assert_outage_answer(await answered(request))

                await server.start()  # after a crash, with recovery
                first = await client.get("/products", headers=as_admin())
                assert first.status_code in (200, 503), first.text  # never a 500
                assert await until_listed(client) == ["BEFORE"]
                again = await client.post("/products", json=product("AFTER"), headers=as_admin())
                assert again.status_code == 201, again.text
                assert sorted(await until_listed(client)) == ["AFTER", "BEFORE"]
        finally:
            await app.state.engine.dispose()


async def test_a_sqlite_write_lock_held_elsewhere_is_a_503_for_writes_not_for_reads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "erp.db"
    url = f"sqlite+aiosqlite:///{path}"
    await migrate(url)
    settings = Settings(database_url=url, jwks=json.dumps(jwks_of(SIGNER)), database_timeout=1)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://erp") as client:
            created = await client.post("/products", json=product("BEFORE"), headers=as_admin())
            assert created.status_code == 201, created.text

            holder.execute("BEGIN EXCLUSIVE")  # another process writing, and not finishing
            # A write waits out the busy timeout for the lock, then 503; a read takes no
            # lock (its unit of work is read-only) and answers from the last commit.
            during = client.post("/products", json=product("DURING"), headers=as_admin())
            assert_outage_answer(await answered(during))
            # The operator sees why in the log, without the statement or its values.
            [logged] = [r.getMessage() for r in caplog.records if "503" in r.getMessage()]
            assert logged.startswith("POST /products: 503, OperationalError: database is locked")
            assert "INSERT" not in logged
            listed = await client.get("/products", headers=as_admin())
            assert listed.status_code == 200, listed.text
            assert [item["sku"] for item in listed.json()["items"]] == ["BEFORE"]

            holder.execute("ROLLBACK")
            again = await client.post("/products", json=product("AFTER"), headers=as_admin())
            assert again.status_code == 201, again.text
            assert sorted(await until_listed(client)) == ["AFTER", "BEFORE"]
    finally:
        holder.close()
        await app.state.engine.dispose()
