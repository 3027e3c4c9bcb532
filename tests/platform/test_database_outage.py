"""A service whose database goes away answers 503 problem+json with Retry-After (never a
500, never a hang), writes nothing, and serves again by itself once the database is back.
The outage is a TCP forwarder in front of PostgreSQL that the test cuts and restores, so
the shared server itself is never touched."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.engine import make_url

from erp.config import Settings
from erp.main import create_app
from shared_schemas.broker import free_port
from tests.support.databases import fresh_postgres_database, postgres_admin_url, postgres_required
from tests.support.erp import migrate
from tests.support.identity import jwks_of, new_signer

pytestmark = pytest.mark.reliability

SIGNER = new_signer("outage-test-key")


class Forwarder:
    """127.0.0.1:`port` → the database server; `cut()` closes it and every connection
    through it, `restore()` listens again on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self.server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        await self.server.wait_closed()
        self.server = None

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, upstream_writer}

        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(copy(reader, upstream_writer), copy(upstream_reader, writer))
        self.writers -= {writer, upstream_writer}


@contextlib.asynccontextmanager
async def erp_behind_forwarder() -> AsyncIterator[tuple[httpx.AsyncClient, Forwarder]]:
    admin_url = postgres_admin_url()
    if admin_url is None:
        if postgres_required():
            pytest.fail("TEST_POSTGRES_URL is set but PostgreSQL does not answer")
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    async with fresh_postgres_database(admin_url) as direct_url:
        await migrate(direct_url)
        url = make_url(direct_url)
        forwarder = Forwarder(url.host or "127.0.0.1", url.port or 5432)
        await forwarder.restore()
        through = url.set(host="127.0.0.1", port=forwarder.port)
        settings = Settings(
            database_url=through.render_as_string(hide_password=False),
            jwks=json.dumps(jwks_of(SIGNER)),
        )
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://erp") as client:
                yield client, forwarder
        finally:
            if forwarder.server is not None:
                await forwarder.cut()
            await app.state.engine.dispose()


def as_admin() -> dict[str, str]:
    token = SIGNER.issue(subject="user-admin", roles=["admin"], employee_id=None)
    return {"Authorization": f"Bearer {token}"}


def product(sku: str) -> dict[str, str]:
    return {"sku": sku, "name": sku, "unit_price": "10.00", "tax_rate": "19", "cost": "4.00"}


async def test_a_database_outage_is_a_503_that_heals_by_itself() -> None:
    async with erp_behind_forwarder() as (client, forwarder):
        created = await client.post("/products", json=product("BEFORE"), headers=as_admin())
        assert created.status_code == 201, created.text

        await forwarder.cut()
        started = time.monotonic()
        listed = await client.get("/products", headers=as_admin())
        refused = await client.post("/products", json=product("DURING"), headers=as_admin())
        # A retried request's key is claimed in the database too: refused alike.
        keyed = {**as_admin(), "Idempotency-Key": "outage-retry-1"}
        refused_keyed = await client.post("/products", json=product("KEYED"), headers=keyed)
        assert time.monotonic() - started < 30, "an outage is answered, not waited out"
        for response in (listed, refused, refused_keyed):
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert int(response.headers["retry-after"]) > 0
            assert "Traceback" not in response.text

        await forwarder.restore()
        deadline = time.monotonic() + 30
        while True:
            listed = await client.get("/products", headers=as_admin())
            if listed.status_code == 200 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert listed.status_code == 200, listed.text
        assert [p["sku"] for p in listed.json()["items"]] == ["BEFORE"]
        again = await client.post("/products", json=product("AFTER"), headers=as_admin())
        assert again.status_code == 201, again.text
        retried = await client.post("/products", json=product("KEYED"), headers=keyed)
        assert retried.status_code == 201, retried.text
        assert "idempotent-replayed" not in retried.headers
