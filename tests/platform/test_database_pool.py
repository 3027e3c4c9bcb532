"""`<PREFIX>_DATABASE_POOL_SIZE` bounds the connections a process opens to its database
(its pool, and as many again under load): many concurrent requests queue for them and
are all answered, while the server sees no more than that."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sqlalchemy import text

from erp.config import Settings
from erp.main import create_app
from tests.support.erp import migrate
from tests.support.identity import jwks_of, new_signer

pytestmark = pytest.mark.api

SIGNER = new_signer("pool-test-key")


async def test_a_process_opens_no_more_connections_than_its_pool_allows(
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no connection pool to bound")
    await migrate(database_url)
    settings = Settings(
        database_url=database_url, jwks=json.dumps(jwks_of(SIGNER)), database_pool_size=1
    )
    app = create_app(settings)
    engine = app.state.engine
    token = SIGNER.issue(subject="admin", roles=["admin"], employee_id=None)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://erp"
        ) as client:
            answers = await asyncio.gather(
                *(client.get("/products", headers=headers) for _ in range(20))
            )
            assert [answer.status_code for answer in answers] == [200] * 20
        # One kept open, one more under load: the most the server ever saw from it.
        assert engine.pool.size() == 1
        assert engine.pool.checkedin() <= 2
        async with engine.connect() as connection:
            name = await connection.scalar(text("select current_database()"))
        async with engine.connect() as connection:
            opened = await connection.scalar(
                text("select count(*) from pg_stat_activity where datname = :name"),
                {"name": name},
            )
        assert opened is not None
        assert opened <= 2
    finally:
        await engine.dispose()
