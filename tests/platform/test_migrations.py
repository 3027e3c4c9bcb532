"""Each service's Alembic history builds its schema from nothing, matches its models, and
can be rolled back, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from gateway.config import Settings
from gateway.service.webhook_secrets import secret_box_for
from shared_schemas.database import create_engine
from tests.support.harness import alembic_config, execute

pytestmark = pytest.mark.api

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("crm-service", "erp-service", "gateway")


async def table_names(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_build_the_models_schema_and_roll_back(
    service: str, database_url: str
) -> None:
    config = alembic_config(service, database_url)
    # Alembic's env runs its own event loop: keep it off the test's loop.
    await asyncio.to_thread(command.upgrade, config, "head")
    assert {"outbox", "inbox", "job_runs"} <= await table_names(database_url)
    # `check` fails when the migrated database differs from the service's MetaData.
    await asyncio.to_thread(command.check, config)
    await asyncio.to_thread(command.downgrade, config, "base")
    assert await table_names(database_url) == set()
    await asyncio.to_thread(command.upgrade, config, "head")
    await asyncio.to_thread(command.check, config)


async def test_dead_letters_logged_before_the_content_key_keep_their_place(
    database_url: str,
) -> None:
    config = alembic_config("crm-service", database_url)
    await asyncio.to_thread(command.upgrade, config, "0002")
    letter = (
        'INSERT INTO dead_letters (consumer_group, topic, partition, "offset", key, value, '
        "reason, error, attempts, failed_at, status) VALUES ('crm-service', 'erp.order.v1', "
        "0, 5, NULL, :value, 'malformed', 'not JSON', 1, :now, 'pending')"
    )
    now = datetime.now(UTC)
    await execute(database_url, letter, value=b"{old", now=now)

    await asyncio.to_thread(command.upgrade, config, "head")
    digests = await execute(database_url, "SELECT value_digest FROM dead_letters")
    assert digests == [(hashlib.sha256(b"{old").hexdigest(),)]
    # Offsets start anew after a broker lost its log: another letter at the same place.
    await execute(
        database_url,
        letter.replace("status) VALUES", "status, value_digest) VALUES").replace(
            "'pending')", "'pending', :digest)"
        ),
        value=b"{new",
        now=now,
        digest=hashlib.sha256(b"{new").hexdigest(),
    )
    assert len(await execute(database_url, "SELECT id FROM dead_letters")) == 2

    # Rolled back, a position holds one letter again: the one logged first.
    await asyncio.to_thread(command.downgrade, config, "0002")
    assert await execute(database_url, "SELECT value FROM dead_letters") == [(b"{old",)]


async def test_webhook_secrets_stored_in_clear_are_sealed_and_unsealed_on_rollback(
    database_url: str,
) -> None:
    config = alembic_config("gateway", database_url)
    await asyncio.to_thread(command.upgrade, config, "0004")
    secret = "whsec_saved-before-secrets-were-sealed"
    now = datetime.now(UTC)
    await execute(
        database_url,
        "INSERT INTO webhook_subscriptions (id, url, event_types, secret, active, "
        "consecutive_failures, created_by, version, created_at, updated_at) VALUES "
        "(:id, 'https://hooks.example/a', '[\"erp.order.*\"]', :secret, true, 0, 'admin', 1, "
        ":now, :now)",
        id=uuid.uuid4().hex if database_url.startswith("sqlite") else uuid.uuid4(),
        secret=secret,
        now=now,
    )

    await asyncio.to_thread(command.upgrade, config, "head")
    [(sealed,)] = await execute(database_url, "SELECT sealed_secret FROM webhook_subscriptions")
    assert isinstance(sealed, str)
    assert secret not in sealed
    assert secret_box_for(Settings(database_url=database_url)).open(sealed) == secret

    await asyncio.to_thread(command.downgrade, config, "0004")
    assert await execute(database_url, "SELECT secret FROM webhook_subscriptions") == [(secret,)]


async def test_employees_whose_users_were_disabled_for_leaving_are_remembered_as_left(
    database_url: str,
) -> None:
    config = alembic_config("gateway", database_url)
    await asyncio.to_thread(command.upgrade, config, "0005")
    sqlite = database_url.startswith("sqlite")
    leaver, other = uuid.uuid4(), uuid.uuid4()
    disabled_at = datetime(2026, 11, 30, 17, 5, tzinfo=UTC)
    users = [
        ("leaver.a", leaver, "employee terminated on 2026-11-28"),
        ("leaver.b", leaver, "employee terminated on 2026-11-28"),
        ("paused", other, "disabled by an admin"),
    ]
    for username, employee, reason in users:
        await execute(
            database_url,
            "INSERT INTO users (id, username, username_key, password_hash, roles, employee_id, "
            "disabled, disabled_reason, disabled_at, version, created_at, updated_at) VALUES "
            "(:id, :name, :name, 'x', '[]', :employee, true, :reason, :at, 1, :at, :at)",
            id=uuid.uuid4().hex if sqlite else uuid.uuid4(),
            name=username,
            employee=employee.hex if sqlite else employee,
            reason=reason,
            at=disabled_at,
        )

    await asyncio.to_thread(command.upgrade, config, "head")
    rows = await execute(
        database_url, "SELECT employee_id, terminated_on FROM terminated_employees"
    )
    assert [(uuid.UUID(str(e)), str(day)) for e, day in rows] == [(leaver, "2026-11-28")]
