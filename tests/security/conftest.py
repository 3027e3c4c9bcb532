"""The APIs under fuzzing: CRM, ERP and the gateway, each as its own API process on a free
port and a fresh, migrated PostgreSQL database (its strict typing refuses what SQLite lets
through: NUL characters, out-of-range numbers and dates), started once for this folder's
tests and stopped after them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from deploy.local.launcher import SERVICES, sign_in
from shared_schemas.broker import free_port
from tests.support.databases import platform_databases, postgres_required
from tests.support.harness import migrate
from tests.support.kafka_tools import eventually
from tests.support.processes import ServiceProcess

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".data" / "test-logs" / "security"
SCRIPTS = {"crm": "crm-api", "erp": "erp-api", "gateway": "gateway-api"}


@dataclass(frozen=True)
class RunningApis:
    urls: dict[str, str]
    logs: dict[str, Path]
    admin_token: str
    # Each service's database, for tests that put in place what only a consumer writes.
    database_urls: dict[str, str] = field(default_factory=dict)


async def _until_ready(url: str, process: ServiceProcess, within: float = 60.0) -> None:
    async with httpx.AsyncClient(timeout=2.0) as client:

        async def ready() -> bool:
            assert process.running(), f"{process.script} exited:\n{process.output()}"
            try:
                return (await client.get(f"{url}/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(ready, timeout=within, what=f"{url} ready")


@pytest.fixture(scope="package")
async def running_apis() -> AsyncIterator[RunningApis]:
    async with platform_databases(SERVICES) as database_urls:
        if database_urls is None:
            if postgres_required():
                pytest.fail("TEST_POSTGRES_URL is set but no database could be created")
            pytest.skip("the fuzzing runs on PostgreSQL, and no server answers")
        ports = {service: free_port() for service in SERVICES}
        urls = {service: f"http://127.0.0.1:{port}" for service, port in ports.items()}
        environment = {
            "GATEWAY_CRM_URL": urls["crm"],
            "GATEWAY_ERP_URL": urls["erp"],
            # A 5xx's traceback is what the log is for; each request's line is not.
            **{f"{s.upper()}_LOG_LEVEL": "warning" for s in SERVICES},
            **{f"{s.upper()}_DATABASE_URL": database_urls[s] for s in SERVICES},
            **{f"{s.upper()}_PORT": str(ports[s]) for s in SERVICES},
        }
        LOGS.mkdir(parents=True, exist_ok=True)
        logs = {service: LOGS / f"{service}.log" for service in SERVICES}
        processes: dict[str, ServiceProcess] = {}

        def start(service: str) -> None:
            logs[service].unlink(missing_ok=True)
            processes[service] = ServiceProcess(SCRIPTS[service], environment, logs[service])

        try:
            # In this process, where the code is imported already, one after the other
            # (Alembic's context is global), while the API processes start: the gateway
            # first, since it adds its development users at start; CRM and ERP touch no
            # table before a request.
            await migrate("gateway", database_urls["gateway"])
            for service in SERVICES:
                start(service)
            await migrate("crm-service", database_urls["crm"])
            await migrate("erp-service", database_urls["erp"])
            for service in SERVICES:
                await _until_ready(urls[service], processes[service])
            async with httpx.AsyncClient(base_url=urls["gateway"], timeout=10.0) as client:
                token = await sign_in(client, "admin", "dev-admin")
            yield RunningApis(urls, logs, token, database_urls)
        finally:
            for process in processes.values():
                process.terminate()


@pytest.fixture(scope="package")
def admin_headers(running_apis: RunningApis) -> dict[str, str]:
    return {"Authorization": f"Bearer {running_apis.admin_token}"}
