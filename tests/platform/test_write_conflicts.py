"""A write that another request's commit made impossible (a unique value taken, a row
changed under its version) answers 409 problem+json and writes nothing, on SQLite and
PostgreSQL alike; a write the code got wrong (a missing NOT NULL value) stays a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import CheckConstraint, Integer, String, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared_schemas.http.problems import PROBLEM_CONTENT_TYPE, install_problem_handlers


class Base(DeclarativeBase):
    """The metadata of this test's own table."""


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str | None] = mapped_column(String(50), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_not_negative"),)


def app_on(engine: AsyncEngine) -> FastAPI:
    """Routes that write without checking first, as two racing requests' second one does."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/items", status_code=201)
    async def create(body: dict[str, str | int | None]) -> dict[str, int]:
        async with sessions() as session, session.begin():
            item = Item(sku=body["sku"], name=body.get("name"), quantity=body.get("quantity", 0))
            session.add(item)
        return {"id": item.id}

    @app.post("/items/{sku}/rename-after-someone-else")
    async def rename(sku: str) -> dict[str, str]:
        async with sessions() as session, session.begin():
            item = (await session.scalars(select(Item).where(Item.sku == sku))).one()
        # Another transaction commits a change of the same row in between.
        async with sessions() as other, other.begin():
            await other.execute(
                update(Item).where(Item.sku == sku).values(version=Item.version + 1)
            )
        async with sessions() as session, session.begin():
            session.add(item)
            item.name = "mine"
        return {"name": "mine"}

    return app


@pytest.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    transport = httpx.ASGITransport(app=app_on(engine), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def count_items(engine: AsyncEngine) -> int:
    async with AsyncSession(engine) as session:
        return int(await session.scalar(select(func.count()).select_from(Item)) or 0)


def assert_conflict(response: httpx.Response) -> None:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    body = response.json()
    assert body["type"].endswith("/conflict")
    assert "fetch them again" in body["detail"]
    # Nothing of the database's own wording (table, constraint, SQL) reaches the client.
    leaks = ("items", "unique", "constraint", "quantity_not_negative", "insert", "update")
    assert not any(word in body["detail"].lower() for word in leaks), body["detail"]
    assert set(body) == {"type", "title", "status", "detail", "instance"}


async def test_a_taken_unique_value_is_a_409_and_writes_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    first = await client.post("/items", json={"sku": "A-1", "name": "chair"})
    assert first.status_code == 201, first.text

    assert_conflict(await client.post("/items", json={"sku": "A-1", "name": "other chair"}))
    assert await count_items(engine) == 1


async def test_a_broken_check_constraint_is_a_409(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    assert_conflict(await client.post("/items", json={"sku": "B-1", "name": "x", "quantity": -1}))
    assert await count_items(engine) == 0


async def test_a_row_changed_under_its_version_is_a_409_and_writes_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    assert (await client.post("/items", json={"sku": "C-1", "name": "desk"})).status_code == 201

    assert_conflict(await client.post("/items/C-1/rename-after-someone-else"))
    # The other writer's change stands; the stale rename left no trace.
    async with AsyncSession(engine) as session:
        item = (await session.scalars(select(Item).where(Item.sku == "C-1"))).one()
    assert (item.name, item.version) == ("desk", 2)


async def test_a_missing_required_value_stays_a_server_error(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    response = await client.post("/items", json={"sku": "D-1", "name": None})

    assert response.status_code == 500
    assert await count_items(engine) == 0
