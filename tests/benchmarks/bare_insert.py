"""The baseline of the customer-create benchmark: a bare FastAPI + SQLAlchemy ORM app that
validates a small body and inserts one row per request (no auth, no outbox, no rules)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared_schemas.database import create_engine, session_factory


class Base(DeclarativeBase):
    pass


class Thing(Base):
    __tablename__ = "bare_things"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))


class ThingIn(BaseModel):
    name: str
    email: str | None = None


class ThingOut(BaseModel):
    id: uuid.UUID
    name: str
    email: str | None


engine = create_engine(os.environ["BARE_DATABASE_URL"])
sessions = session_factory(engine)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.post("/things", status_code=201)
async def create_thing(body: ThingIn) -> ThingOut:
    async with sessions() as session, session.begin():
        thing = Thing(name=body.name, email=body.email)
        session.add(thing)
    return ThingOut(id=thing.id, name=thing.name, email=thing.email)
