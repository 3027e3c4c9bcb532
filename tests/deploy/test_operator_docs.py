"""docs/architecture.md against the code: the periodic jobs it says each service's relay
process runs are the jobs that process's runner has (an operator reads `job_runs` and
`periodic_job_runs_total{job}` by these names)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crm.config import Settings as CrmSettings
from crm.main import build_workers as crm_workers
from erp.config import Settings as ErpSettings
from erp.main import build_workers as erp_workers
from gateway.config import Settings as GatewaySettings
from gateway.main import build_workers as gateway_workers
from shared_schemas.database import create_engine
from shared_schemas.messaging import Workers

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "docs" / "architecture.md"

# The column of the architecture page's services table, and how the service builds the
# workers its relay process runs.
SERVICES: dict[str, tuple[type[Any], Callable[..., Workers]]] = {
    "crm-service": (CrmSettings, crm_workers),
    "erp-service": (ErpSettings, erp_workers),
    "gateway": (GatewaySettings, gateway_workers),
}


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def documented_jobs() -> dict[str, set[str]]:
    """Service (table column) -> the job names its `periodic jobs` row lists."""
    lines = ARCHITECTURE.read_text().splitlines()
    header = next(_cells(line) for line in lines if line.startswith("| |"))
    row = next(_cells(line) for line in lines if line.startswith("| periodic jobs |"))
    return {
        service: set(re.findall(r"`([a-z-]+)`", cell))
        for service, cell in zip(header[1:], row[1:], strict=True)
    }


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_architecture_names_every_periodic_job_of_the_service(service: str) -> None:
    settings_class, build_workers = SERVICES[service]
    engine = create_engine("sqlite+aiosqlite://")  # never connected: the jobs are only listed
    try:
        workers = build_workers(engine, settings_class())
        own = {job.name for job in workers.jobs}
        every = {job.name for job in workers.job_runner().jobs}
    finally:
        await engine.dispose()
    assert documented_jobs()[service] == own, f"docs/architecture.md: {service}'s periodic jobs"
    text = ARCHITECTURE.read_text()
    missing = sorted(name for name in every - own if f"`{name}`" not in text)
    assert not missing, f"docs/architecture.md does not name the jobs {missing}"
