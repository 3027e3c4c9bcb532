"""CRM and ERP served over HTTP on 127.0.0.1 (trusting the gateway tests' key) and a
gateway in front of them: for tests of what goes through the gateway to real services."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI

from crm.config import Settings as CrmSettings
from crm.main import create_app as create_crm
from erp.config import Settings as ErpSettings
from erp.main import create_app as create_erp
from gateway.config import Settings
from gateway.main import create_app as create_gateway
from tests.support.crm import Crm
from tests.support.crm import migrate as migrate_crm
from tests.support.erp import Erp
from tests.support.erp import migrate as migrate_erp
from tests.support.gateway import SIGNER
from tests.support.harness import migrate
from tests.support.identity import jwks_of
from tests.support.stub_upstreams import serving

JWKS = json.dumps(jwks_of(SIGNER))


@dataclass
class Services:
    crm: Crm
    erp: Erp
    crm_url: str
    erp_url: str
    apps: dict[str, FastAPI]


@contextlib.asynccontextmanager
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    """CRM and ERP on databases of their own, served on 127.0.0.1, trusting the test key;
    their harnesses set data up through their own APIs."""
    crm_db = f"sqlite+aiosqlite:///{tmp_path}/crm.db"
    erp_db = f"sqlite+aiosqlite:///{tmp_path}/erp.db"
    await migrate_crm(crm_db)
    await migrate_erp(erp_db)
    crm_app = create_crm(CrmSettings(database_url=crm_db, jwks=JWKS))
    erp_app = create_erp(ErpSettings(database_url=erp_db, jwks=JWKS))
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=crm_app), base_url="http://crm") as c,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=erp_app), base_url="http://erp") as e,
        serving(crm_app, lifespan="off") as crm_url,
        serving(erp_app, lifespan="off") as erp_url,
    ):
        yield Services(
            Crm(c, crm_app.state.workers.applier(), SIGNER, crm_app.state.engine),
            Erp(e, erp_app.state.workers.applier(), SIGNER, erp_app.state.engine),
            crm_url,
            erp_url,
            {"crm": crm_app, "erp": erp_app},
        )
    await crm_app.state.engine.dispose()
    await erp_app.state.engine.dispose()


@contextlib.asynccontextmanager
async def gateway_to(
    tmp_path: Path, crm_url: str, erp_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway (with its lifespan: pooled upstream clients) in front of the services."""
    database_url = f"sqlite+aiosqlite:///{tmp_path}/gateway-{uuid.uuid4().hex[:6]}.db"
    await migrate("gateway", database_url)
    settings = Settings(
        database_url=database_url,
        jwks=JWKS,
        crm_url=crm_url,
        erp_url=erp_url,
        upstream_read_timeout=5,
    )
    app = create_gateway(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):
        yield client
    await app.state.engine.dispose()


def as_(role: str, employee_id: uuid.UUID | None = None) -> dict[str, str]:
    """A bearer token of the test key for one role (and employee)."""
    token = SIGNER.issue(
        subject=f"user-{role}-{employee_id}", roles=[role], employee_id=employee_id
    )
    return {"Authorization": f"Bearer {token}"}
