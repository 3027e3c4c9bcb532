"""One OpenAPI document for frontends: the gateway's routes and both services' under
their prefixes, every reference resolving, with what the gateway's edge answers itself;
the event catalogue beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis

from crm.config import Settings as CrmSettings
from crm.main import create_app as create_crm
from erp.config import Settings as ErpSettings
from erp.main import create_app as create_erp
from gateway.api.documents import merge_documents
from gateway.config import Settings
from gateway.main import create_app as create_gateway
from shared_schemas.broker import free_port
from shared_schemas.events.generate import schemas_dir
from shared_schemas.http.openapi import shared_component
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
    own = {
        "openapi": "3.1.0",
        "info": {"title": "gateway", "version": "1"},
        "paths": {"/auth/token": {}},
    }
    merged = merge_documents(own, {"crm": crm, "erp": erp})

    assert "/auth/token" in merged["paths"]
    for prefix, document in (("/api/crm", crm), ("/api/erp", erp)):
        for path, operations in document["paths"].items():
            assert merged["paths"][f"{prefix}{path}"].keys() == operations.keys()
    # Both services have schemas of the same name; each keeps its own, except the ones every
    # app's document shares, kept once.
    common = set(crm["components"]["schemas"]) & set(erp["components"]["schemas"])
    kept_once = {name for name in common if shared_component("schemas", name)}
    assert {"Problem", "ProblemFieldError"} <= kept_once
    assert common - kept_once
    schemas = merged["components"]["schemas"]
    for name in common - kept_once:
        assert {f"CRM{name}", f"ERP{name}"} <= schemas.keys()
    for name in kept_once - {"HTTPValidationError"}:
        assert schemas[name] == crm["components"]["schemas"][name]
        assert f"CRM{name}" not in schemas
        assert f"ERP{name}" not in schemas
    # FastAPI's 422 schema goes once nothing refers to it.
    assert not any("HTTPValidationError" in name for name in schemas)
    assert (
        len(schemas)
        == len(crm["components"]["schemas"])
        + len(erp["components"]["schemas"])
        - len(kept_once)
        - 1
    )
    for kind, components in merged["components"].items():
        if kind != "securitySchemes":
            assert not any(name.startswith("CRMCRM") for name in components), kind
    for ref in refs(merged):
        _, _, kind, name = ref.split("/")
        assert name in merged["components"][kind], ref
    assert merged["paths"]["/api/erp/orders"]["post"]["tags"] == ["ERP orders"]
    schemathesis.openapi.from_dict(merged).validate()


def test_every_operation_of_the_merged_document_has_its_own_id(tmp_path: Path) -> None:
    """OpenAPI requires operation ids unique in a document: client generators name their
    methods after them. Both services and the gateway have a `healthz`, an outbox and a
    dead-letter queue, and both services list employees."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/gateway.db")
    own = create_gateway(settings).openapi()
    crm = create_crm(CrmSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/crm.db")).openapi()
    erp = create_erp(ErpSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/erp.db")).openapi()
    merged = merge_documents(own, {"crm": crm, "erp": erp})

    ids = [
        operation["operationId"]
        for operations in merged["paths"].values()
        for operation in operations.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    assert len(ids) == sum(
        1
        for document in (own, crm, erp)
        for operations in document["paths"].values()
        for operation in operations.values()
        if isinstance(operation, dict) and "operationId" in operation
    )
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    # The gateway's own keep theirs; a service's names the service.
    assert (
        merged["paths"]["/healthz"]["get"]["operationId"]
        == (own["paths"]["/healthz"]["get"]["operationId"])
    )
    crm_health = merged["paths"]["/api/crm/healthz"]["get"]["operationId"]
    erp_health = merged["paths"]["/api/erp/healthz"]["get"]["operationId"]
    assert crm_health.startswith("crm_")
    assert erp_health.startswith("erp_")


def test_the_merged_document_adds_what_the_edge_answers(tmp_path: Path) -> None:
    """429 on every route but the probes; 502, 503 (with Retry-After) and 504 on the routes
    the gateway proxies; the services' conventions (Idempotency-Key, problem+json) kept."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/gateway.db")
    own = create_gateway(settings).openapi()
    erp = create_erp(ErpSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/erp.db")).openapi()
    merged = merge_documents(own, {"erp": erp})
    responses = merged["components"]["responses"]
    headers = merged["components"]["headers"]

    create_order = merged["paths"]["/api/erp/orders"]["post"]
    answers = create_order["responses"]
    assert {"401", "403", "409", "413", "422", "429", "502", "503", "504"} <= answers.keys()
    for status in ("429", "503"):
        response = responses[answers[status]["$ref"].rsplit("/", 1)[-1]]
        assert response["headers"]["Retry-After"] == {"$ref": "#/components/headers/RetryAfter"}
        assert response["content"]["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }
    assert "RetryAfter" in headers
    assert answers["422"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    names = [parameter.get("name") for parameter in create_order["parameters"]]
    assert "Idempotency-Key" in names
    # The gateway proxies nothing without a token, a service's probes included.
    service_probe = merged["paths"]["/api/erp/healthz"]["get"]
    assert service_probe["security"] == [{"HTTPBearer": []}]
    assert {"401", "403"} <= service_probe["responses"].keys()
    assert merged["paths"]["/healthz"]["get"].get("security") is None
    # The gateway's own routes are rate limited too; its probes are not.
    assert "429" in merged["paths"]["/auth/token"]["post"]["responses"]
    for probe in ("/healthz", "/readyz", "/metrics"):
        assert "429" not in merged["paths"][probe]["get"]["responses"], probe
    # Its `/healthz`, put into its own document late, is described in the merged one.
    health_422 = merged["paths"]["/healthz"]["get"]["responses"]["422"]
    assert list(health_422["content"]) == ["application/problem+json"]
    assert "HTTPValidationError" not in merged["components"]["schemas"]
    schemathesis.openapi.from_dict(merged).validate()


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
