"""Pytest fixtures: one embedded broker per session, a database per test (or per module)
on both backends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.broker import EmbeddedBroker, free_port
from shared_schemas.database import create_engine
from shared_schemas.messaging.kafka import KafkaSettings, ensure_topics
from tests.support import databases
from tests.support.databases import fresh_postgres_database, postgres_admin_url, postgres_required
from tests.support.migrated import templates

LOG_DIR = Path(__file__).resolve().parents[2] / ".data" / "test-logs"


# Test files that start processes of their own (the platform, API processes, workers to
# kill): together they would crowd two cores, so they run one after another.
PROCESS_HEAVY = (
    "tests/e2e/",
    "tests/security/",
    "tests/platform/test_entry_points.py",
    "shared-schemas/tests/messaging/test_faults.py",
)


# First: pytest-xdist reads the groups in its own hook (it appends `@<group>` to each test's
# id there); run after it, the marks would be ignored and every test scheduled alone.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With several workers (`pytest -n 2 --dist loadgroup`, as `make test` runs), each
    test file stays on one worker, so module fixtures (a live consumer, a module's
    database) are set up once; the files that start processes share one worker and come
    first, so the longest group starts at once while the other worker takes the rest."""

    def heavy(item: pytest.Item) -> bool:
        return item.nodeid.startswith(PROCESS_HEAVY)

    for item in items:
        group = "processes" if heavy(item) else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: not heavy(item))


@pytest.fixture(scope="session", autouse=True)
async def migrated_templates() -> AsyncIterator[None]:
    """Each service's migrations run once per session; test databases are copies, and the
    next test's empty PostgreSQL database is made while the current one runs."""
    databases.spare_databases = databases.SpareDatabases()
    try:
        async with templates():
            yield
    finally:
        spares, databases.spare_databases = databases.spare_databases, None
        await spares.drop_all()


@pytest.fixture(scope="session")
async def broker() -> AsyncIterator[EmbeddedBroker]:
    """The embedded broker on a free port, with the catalogue's topics, for the whole session."""
    instance = EmbeddedBroker(free_port(), log_path=LOG_DIR / "broker.log")
    try:
        await instance.start()  # a start that fails half-way stops its process too
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def kafka(broker: EmbeddedBroker) -> KafkaSettings:
    # Short sessions let a restarted consumer take over a killed one's partitions quickly.
    return KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers,
        session_timeout_ms=6_000,
        request_timeout_ms=10_000,
    )


@pytest.fixture
async def topic(kafka: KafkaSettings) -> str:
    """A topic of the test's own (3 partitions), so tests never see each other's events."""
    name = f"test.{uuid.uuid4().hex[:12]}"
    await ensure_topics(kafka, [(name, 3)])
    return name


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the test's database (`database_url`), disposed afterwards."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a SQLite file, then a fresh PostgreSQL database."""
    async with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def module_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """An empty database per backend for a whole module, for what lives that long (a live
    consumer)."""
    async with empty_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@asynccontextmanager
async def empty_database(backend: str, directory: Path) -> AsyncIterator[str]:
    """A SQLite file in `directory`, or a fresh PostgreSQL database (skipped without a server,
    failed when one is required)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'test.db'}"
        return
    admin_url = postgres_admin_url()
    if admin_url is None:
        if postgres_required():
            pytest.fail("TEST_POSTGRES_URL is set but PostgreSQL does not answer")
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    async with fresh_postgres_database(admin_url) as url:
        yield url
