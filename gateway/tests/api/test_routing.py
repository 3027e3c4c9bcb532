"""Routing through the gateway: `/api/crm/...` and `/api/erp/...` reach the real services
(served over HTTP on 127.0.0.1) and come back unchanged; request id and trace context
travel on, hop-by-hop headers stop, and what the permission table refuses never leaves
the gateway."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm.config import Settings as CrmSettings
from crm.main import create_app as create_crm
from erp.config import Settings as ErpSettings
from erp.main import create_app as create_erp
from tests.support.crm import migrate as migrate_crm
from tests.support.edge import JWKS, bearer, edge_gateway
from tests.support.erp import migrate as migrate_erp
from tests.support.fixtures import empty_database
from tests.support.harness import migrate
from tests.support.stub_upstreams import Arrived, Reply, StubUpstream, serving

pytestmark = pytest.mark.api


@dataclass(frozen=True)
class Platform:
    crm_url: str
    erp_url: str
    gateway_database: str


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def platform(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Platform]:
    """CRM and ERP served on 127.0.0.1 on their own databases, and a migrated gateway
    database, on one backend, for the whole module."""
    backend = request.param
    folders = [tmp_path_factory.mktemp(name) for name in ("crm", "erp", "gateway")]
    async with (
        empty_database(backend, folders[0]) as crm_db,
        empty_database(backend, folders[1]) as erp_db,
        empty_database(backend, folders[2]) as gateway_db,
    ):
        await migrate_crm(crm_db)
        await migrate_erp(erp_db)
        await migrate("gateway", gateway_db)
        crm = create_crm(CrmSettings(database_url=crm_db, jwks=JWKS))
        erp = create_erp(ErpSettings(database_url=erp_db, jwks=JWKS))
        try:
            async with serving(crm) as crm_url, serving(erp) as erp_url:
                yield Platform(crm_url, erp_url, gateway_db)
        finally:
            await crm.state.engine.dispose()
            await erp.state.engine.dispose()


async def direct(base_url: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url) as client:
        return await client.request(method, path, **kwargs)


async def test_an_erp_call_through_the_gateway_comes_back_as_the_erp_answered(
    platform: Platform,
) -> None:
    warehouse = bearer("warehouse")
    sku = f"GW-{uuid.uuid4().hex[:8]}"
    product = {
        "sku": sku,
        "name": "Desk",
        "unit_price": "250.00",
        "tax_rate": "19",
        "cost": "100.00",
    }
    async with edge_gateway(
        platform.gateway_database,
        migrated=True,
        crm_url=platform.crm_url,
        erp_url=platform.erp_url,
    ) as gateway:
        created = await gateway.client.post("/api/erp/products", json=product, headers=warehouse)
        assert created.status_code == 201, created.text
        path = f"/products/{created.json()['id']}"

        through = await gateway.client.get(f"/api/erp{path}", headers=warehouse)
        straight = await direct(platform.erp_url, "GET", path, headers=warehouse)
        assert through.status_code == straight.status_code == 200
        assert through.content == straight.content
        assert through.headers["etag"] == straight.headers["etag"] == '"1"'
        assert through.headers["content-type"] == straight.headers["content-type"]
        head = await gateway.client.head(f"/api/erp{path}", headers=warehouse)
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["etag"] == '"1"'

        # A change with If-Match, and the service's own refusals, pass unchanged too.
        patch = {"name": "Standing desk"}
        changed = await gateway.client.patch(
            f"/api/erp{path}", json=patch, headers={**warehouse, "If-Match": '"1"'}
        )
        assert changed.status_code == 200, changed.text
        assert changed.headers["etag"] == '"2"'
        stale = await gateway.client.patch(
            f"/api/erp{path}",
            json={"name": "Stale desk"},
            headers={**warehouse, "If-Match": '"1"'},
        )
        assert stale.status_code == 412
        assert stale.headers["content-type"] == "application/problem+json"
        # The problem names what the client asked for, not the service's own path.
        stale_straight = await direct(
            platform.erp_url,
            "PATCH",
            path,
            json={"name": "Stale desk"},
            headers={**warehouse, "If-Match": '"1"'},
        )
        assert stale_straight.json()["instance"] == path
        assert stale.json() == {**stale_straight.json(), "instance": f"/api/erp{path}"}
        assert int(stale.headers["content-length"]) == len(stale.content)
        kept = await gateway.client.get(f"/api/erp{path}", headers=warehouse)
        assert (kept.json()["name"], kept.headers["etag"]) == ("Standing desk", '"2"')

        page = await gateway.client.get(f"/api/erp/products?limit=1&sku={sku}", headers=warehouse)
        assert page.status_code == 200
        assert [item["sku"] for item in page.json()["items"]] == [sku]

        metrics = (await gateway.client.get("/metrics")).text
        assert 'route="/api/erp/products/{id}",status="200"' in metrics
        assert 'gateway_upstream_requests_total{outcome="2xx",upstream="erp"}' in metrics


async def test_a_crm_creation_answers_with_the_gateway_s_location(platform: Platform) -> None:
    admin = bearer("admin")
    async with edge_gateway(
        platform.gateway_database,
        migrated=True,
        crm_url=platform.crm_url,
        erp_url=platform.erp_url,
    ) as gateway:
        created = await gateway.client.post(
            "/api/crm/customers",
            json={"kind": "company", "name": "Northwind Traders", "email": "nw@example.com"},
            headers=admin,
        )
        assert created.status_code == 201, created.text
        customer_id = created.json()["id"]
        assert created.headers["location"] == f"/api/crm/customers/{customer_id}"

        followed = await gateway.client.get(created.headers["location"], headers=admin)
        straight = await direct(platform.crm_url, "GET", f"/customers/{customer_id}", headers=admin)
        assert followed.status_code == 200
        assert followed.json() == straight.json() == created.json()


async def test_the_table_s_refusals_and_the_page_size_limit_answer_at_the_gateway(
    platform: Platform,
) -> None:
    async with edge_gateway(
        platform.gateway_database,
        migrated=True,
        crm_url=platform.crm_url,
        erp_url=platform.erp_url,
    ) as gateway:
        client = gateway.client
        # A role the table keeps out of CRM altogether.
        refused = await client.get("/api/crm/customers", headers=bearer("warehouse"))
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["detail"] == "Your role may not read customers."
        # A transition of a resource the role may read but not change.
        accept = await client.post(
            f"/api/crm/quotes/{uuid.uuid4()}/accept", headers=bearer("support")
        )
        assert accept.status_code == 403
        # Allowed at the gateway, decided by the service (unknown id).
        unknown = await client.get(f"/api/erp/orders/{uuid.uuid4()}", headers=bearer("warehouse"))
        assert unknown.status_code == 404
        assert (await client.get("/api/erp/products")).status_code == 401
        garbage = {"Authorization": "Bearer not-a-token"}
        assert (await client.get("/api/erp/products", headers=garbage)).status_code == 401
        too_many = await client.get("/api/erp/products?limit=500", headers=bearer("admin"))
        assert too_many.status_code == 422
        assert too_many.json()["errors"] == [{"field": "query.limit", "message": "at most 200"}]
        assert "x-request-id" in too_many.headers


def arrived_json(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    body["headers"] = {name: value for name, value in body["headers"]}
    return body


async def test_request_id_trace_context_and_token_reach_the_service(
    database_url: str,
) -> None:
    async with (
        StubUpstream() as stub,
        edge_gateway(database_url, erp_url=stub.url) as gateway,
    ):
        headers = {
            **bearer("admin"),
            "X-Request-ID": "req-42",
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "tracestate": "vendor=1",
        }
        answer = await gateway.client.get("/api/erp/healthz?probe=1", headers=headers)
        assert answer.status_code == 200
        seen = arrived_json(answer)
        assert seen["target"] == "/healthz?probe=1"
        assert seen["headers"]["x-request-id"] == "req-42" == answer.headers["x-request-id"]
        assert seen["headers"]["authorization"] == headers["Authorization"]
        version, trace_id, span_id, flags = seen["headers"]["traceparent"].split("-")
        assert (version, trace_id, flags) == ("00", "4bf92f3577b34da6a3ce929d0e0e4736", "01")
        assert span_id != "00f067aa0ba902b7"
        assert len(span_id) == 16
        assert seen["headers"]["tracestate"] == "vendor=1"
        assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
        assert seen["headers"]["x-forwarded-host"] == "gateway"

        # None sent: the gateway makes both, and answers with the id the service saw.
        fresh = await gateway.client.get("/api/erp/healthz", headers=bearer("admin"))
        seen = arrived_json(fresh)
        assert seen["headers"]["x-request-id"] == fresh.headers["x-request-id"]
        assert len(seen["headers"]["traceparent"].split("-")[1]) == 32


async def test_hop_by_hop_headers_stop_at_the_gateway_both_ways(database_url: str) -> None:
    async with (
        StubUpstream() as stub,
        edge_gateway(database_url, crm_url=stub.url) as gateway,
    ):
        answer = await gateway.client.post(
            "/api/crm/leads",
            content=b'{"name": "x"}',
            headers={
                **bearer("admin"),
                "Content-Type": "application/json",
                "Connection": "keep-alive, X-Client-Hop",
                "X-Client-Hop": "private",
                "Keep-Alive": "timeout=5",
                "Proxy-Authorization": "Basic c2VjcmV0",
                "TE": "trailers",
                "Upgrade": "websocket",
                "X-Kept-Too": "yes",
            },
        )
        assert answer.status_code == 200
        sent = arrived_json(answer)["headers"]
        for name in ("x-client-hop", "keep-alive", "proxy-authorization", "te", "upgrade"):
            assert name not in sent, name
        assert sent.get("connection") in (None, "keep-alive")  # the pool's own
        assert sent["x-kept-too"] == "yes"
        assert sent["content-type"] == "application/json"
        assert sent["content-length"] == "13"
        for name in ("x-internal-hop", "keep-alive", "proxy-authenticate", "connection"):
            assert name not in answer.headers, name
        assert answer.headers["x-kept"] == "yes"
        assert answer.headers["etag"] == '"7"'


async def test_bodies_stream_both_ways_unchanged(database_url: str) -> None:
    big = bytes(range(256)) * 1024  # 256 KiB, over the one-piece size

    async def mirror(_: int, arrived: Arrived) -> Reply:
        return Reply(200, [("Content-Type", "application/octet-stream")], arrived.body * 2)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 10_000):
            yield big[start : start + 10_000]

    async with (
        StubUpstream(mirror) as stub,
        edge_gateway(database_url, erp_url=stub.url, max_body_bytes=1_048_576) as gateway,
    ):
        answer = await gateway.client.put(
            "/api/erp/budgets/a/2026-01", content=chunks(), headers=bearer("admin")
        )
        assert answer.status_code == 200
        assert answer.content == big * 2
        assert stub.arrived[0].header("transfer-encoding") == "chunked"
        assert len(stub.arrived[0].body) == len(big)


async def test_the_service_s_refusal_is_passed_on_not_replaced(tmp_path: Path) -> None:
    """A 4xx problem from the service reaches the client as the service wrote it."""
    problem = {"type": "https://errors.crm-erp.dev/conflict", "title": "Conflict", "status": 409}

    async def conflict(_: int, __: Arrived) -> Reply:
        body = json.dumps(problem).encode()
        return Reply(409, [("Content-Type", "application/problem+json")], body)

    async with (
        StubUpstream(conflict) as stub,
        edge_gateway(f"sqlite+aiosqlite:///{tmp_path}/gw.db", erp_url=stub.url) as gateway,
    ):
        answer = await gateway.client.post(
            f"/api/erp/orders/{uuid.uuid4()}/cancel", headers=bearer("admin")
        )
        assert answer.status_code == 409
        assert answer.json() == problem


async def test_an_encoded_slash_after_the_service_s_name_cannot_name_another_host(
    tmp_path: Path,
) -> None:
    """`/api/crm%2F...` is `/api/crm/...` to the gateway's check: the service gets that
    path, never a URL whose authority the rest of the path wrote."""
    async with (
        StubUpstream() as crm,
        StubUpstream() as elsewhere,
        edge_gateway(f"sqlite+aiosqlite:///{tmp_path}/gw.db", crm_url=crm.url) as gateway,
    ):
        plain = await gateway.client.get("/api/crm%2Fcustomers?q=a", headers=bearer("sales"))
        assert plain.status_code == 200
        assert arrived_json(plain)["target"] == "/customers?q=a"

        port = elsewhere.port
        answer = await gateway.client.get(
            f"/api/crm%2F@127.0.0.1:{port}/customers", headers=bearer("sales")
        )
        assert answer.status_code == 200
        assert arrived_json(answer)["target"] == f"/%40127.0.0.1%3A{port}/customers"
        assert elsewhere.arrived == []
        assert len(crm.arrived) == 2


async def test_made_up_methods_are_counted_as_other_in_the_metrics(tmp_path: Path) -> None:
    async with edge_gateway(f"sqlite+aiosqlite:///{tmp_path}/gw.db") as gateway:
        for method in ("FOO1", "FOO2", "PURGE"):
            answer = await gateway.client.request(method, "/api/erp/products")
            assert answer.status_code == 405  # no method but the API's goes anywhere
        metrics = (await gateway.client.get("/metrics")).text
        for method in ("FOO1", "FOO2", "PURGE"):
            assert f'method="{method}"' not in metrics
        assert 'method="other",route="/api/erp/{path}",status="405"' in metrics


@pytest.mark.parametrize(
    "traceparent",
    [None, "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-broken"],
)
async def test_a_tracestate_goes_on_only_with_the_trace_it_belongs_to(
    tmp_path: Path, traceparent: str | None
) -> None:
    """W3C Trace Context: when the caller's trace is not continued, its tracestate is
    dropped; with a valid traceparent it travels on, its several headers as one list."""
    headers = {**bearer("admin"), "tracestate": "vendor=1"}
    if traceparent is not None:
        headers["traceparent"] = traceparent
    async with (
        StubUpstream() as stub,
        edge_gateway(f"sqlite+aiosqlite:///{tmp_path}/gw.db", erp_url=stub.url) as gateway,
    ):
        answer = await gateway.client.get("/api/erp/healthz", headers=headers)
        assert answer.status_code == 200
        assert "tracestate" not in arrived_json(answer)["headers"]

        valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        both = [*bearer("admin").items(), ("traceparent", valid)]
        both += [("tracestate", "a=1"), ("tracestate", "b=2")]
        answer = await gateway.client.get("/api/erp/healthz", headers=both)
        assert arrived_json(answer)["headers"]["tracestate"] == "a=1,b=2"
