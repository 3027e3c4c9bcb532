"""One OpenAPI document for frontends: the gateway's routes and both services' under
their prefixes, every reference resolving; the event catalogue beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm.config import Settings as CrmSettings
from crm.main import create_app as create_crm
from erp.config import Settings as ErpSettings
from erp.main import create_app as create_erp
from gateway.api.documents import merge_documents
from gateway.config import Settings
from gateway.main import create_app as create_gateway
from shared_schemas.broker import free_port
from shared_schemas.events.generate import schemas_dir
from tests.support.edge import edge_gateway
from tests.support.stub_upstreams import Arrived, Reply, StubUpstream

pytestmark = pytest.mark.api


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


def test_the_services_documents_merge_under_their_prefixes(tmp_path: Path) -> None:
    crm = create_crm(CrmSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/crm.db")).openapi()
    erp = create_erp(ErpSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/erp.db")).openapi()
    own = {"openapi": "3.1.0", "info": {"title": "gateway"}, "paths": {"/auth/token": {}}}
    merged = merge_documents(own, {"crm": crm, "erp": erp})

    assert "/auth/token" in merged["paths"]
    for prefix, document in (("/api/crm", crm), ("/api/erp", erp)):
        for path, operations in document["paths"].items():
            assert merged["paths"][f"{prefix}{path}"].keys() == operations.keys()
    # Both services have schemas of the same name; each keeps its own.
    shared = set(crm["components"]["schemas"]) & set(erp["components"]["schemas"])
    assert shared
    for name in shared:
        assert {f"CRM{name}", f"ERP{name}"} <= merged["components"]["schemas"].keys()
    schemas = merged["components"]["schemas"]
    assert len(schemas) == len(crm["components"]["schemas"]) + len(erp["components"]["schemas"])
    for ref in refs(merged):
        assert ref.rsplit("/", 1)[-1] in schemas, ref
    assert merged["paths"]["/api/erp/orders"]["post"]["tags"] == ["ERP orders"]


async def test_the_documents_are_served_and_name_an_upstream_that_is_down(
    gateway_settings: Settings,
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    app = create_gateway(gateway_settings.model_copy(update={"crm_url": closed, "erp_url": closed}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await client.get("/openapi.json")
        assert response.status_code == 200
        document = response.json()
        assert document["x-degraded"] == ["crm", "erp"]
        assert document["info"]["title"] == "CRM + ERP gateway"
        assert "/healthz" in document["paths"]
        # Both renderings show the merged document, not the gateway's own.
        for page in ("/docs", "/redoc"):
            docs = await client.get(page)
            assert docs.status_code == 200
            assert "'/openapi.json'" in docs.text or '"/openapi.json"' in docs.text, page
            assert "/gateway/openapi.json" not in docs.text, page
        catalogue = await client.get("/asyncapi.json")
        assert catalogue.status_code == 200
        assert catalogue.json() == json.loads((schemas_dir() / "asyncapi.json").read_text())
    for upstream in app.state.upstreams.values():
        await upstream.close()
    await app.state.engine.dispose()


async def test_the_merged_document_is_kept_a_while_not_fetched_per_call(database_url: str) -> None:
    async def document(_: int, arrived: Arrived) -> Reply:
        assert arrived.target == "/openapi.json"
        body = {"openapi": "3.1.0", "info": {"title": "svc"}, "paths": {"/things": {}}}
        return Reply(200, [("Content-Type", "application/json")], json.dumps(body).encode())

    async with (
        StubUpstream(document) as crm,
        StubUpstream(document) as erp,
        edge_gateway(database_url, crm_url=crm.url, erp_url=erp.url) as gateway,
    ):
        for _ in range(2):
            response = await gateway.client.get("/openapi.json")
            assert response.status_code == 200
            paths = response.json()["paths"]
            assert {"/api/crm/things", "/api/erp/things"} <= paths.keys()
            assert "x-degraded" not in response.json()
        assert (len(crm.arrived), len(erp.arrived)) == (1, 1)
