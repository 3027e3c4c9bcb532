"""Function-level authorisation at the gateway (design §7): every route, by every role.

Proxied routes: every route of both services that the services guard with `Authorize`,
sent through the gateway to one stub upstream that records each arrival and marks its
answer. A role the permission table lets use the route must reach the service with the
method and path it sent, and get the service's answer back; any other role gets a 403
problem+json from the gateway, and the service sees nothing (save the few routes listed
below, which the gateway passes on for the service to refuse).

The gateway's own routes, every method (users; webhooks with their deliveries and
replay; dead letters and outbox; the customer overview; the event stream), each with a
case here, or the test fails: the roles design §7 names get the route's own answer (the
status each case expects), the others a 403 problem+json and nothing reaches a service.

Every mismatch is collected and reported at once."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from crm.config import Settings as CrmSettings
from crm.main import create_app as create_crm
from erp.config import Settings as ErpSettings
from erp.main import create_app as create_erp
from shared_schemas.identity import Authorize
from shared_schemas.permissions import may
from shared_schemas.roles import Role
from tests.support.edge import EdgeGateway, bearer, edge_gateway
from tests.support.stub_upstreams import Arrived, Reply, StubUpstream, serving

pytestmark = pytest.mark.security

SOME_ID = "0b1e4f1a-8b7c-4d5e-9f00-112233445566"
# Admin last: a route that really deletes has been tried by every other role first.
ROLES = sorted(Role, key=lambda role: role is Role.ADMIN)

# The gateway reads the action off the method and path, so its check may be more lenient
# than a service's but never stricter. Where it is, these roles are passed on for the
# service to refuse (each service's own tests hold it to that).
PASSED_ON_FOR_THE_SERVICE_TO_REFUSE: dict[tuple[str, str, str], frozenset[Role]] = {
    # The ledger audit is guarded as `stock create`; a GET reads as `stock read`.
    ("erp", "GET", "/stock/check"): frozenset({Role.SALES, Role.SALES_MANAGER}),
}

# Who may use the gateway's own routes, as design §7 words it (not read off the table).
ADMIN_ONLY = frozenset({Role.ADMIN})
CUSTOMER_READERS = frozenset(
    {Role.ADMIN, Role.SALES, Role.SALES_MANAGER, Role.SUPPORT, Role.FINANCE}
)

MARKER = "x-stub-arrival"
STUB_ANSWER = b'{"items": [], "next_cursor": null}'


async def answer_and_mark(number: int, _: Arrived) -> Reply:
    """200 with an empty page (which the overview reads as every part empty), marked with
    the arrival's number so an answer is known to have come from the service."""
    headers = [("Content-Type", "application/json"), (MARKER, str(number))]
    return Reply(200, headers, STUB_ANSWER)


def checked_routes(app: FastAPI) -> Iterator[tuple[str, str, str, str]]:
    """(method, path, resource, action) of every route guarded by `Authorize`."""
    for candidate in app.routes:
        # Routers included with prefixes or dependencies are contexts of their route.
        contexts = getattr(candidate, "effective_route_contexts", None)
        for context in contexts() if contexts else [candidate]:
            route = getattr(context, "original_route", context)
            if not isinstance(route, APIRoute):
                continue
            found = _authorize(route.dependant)
            if found is None:
                continue
            for method in sorted(route.methods or ()):
                yield method, str(context.path), found.resource, found.action


def _authorize(dependant: Any) -> Authorize | None:
    if isinstance(dependant.call, Authorize):
        return dependant.call
    for child in dependant.dependencies:
        found = _authorize(child)
        if found is not None:
            return found
    return None


def service_apps() -> dict[str, FastAPI]:
    """Both services' apps, built only to read their routes (never served here)."""
    memory = "sqlite+aiosqlite:///:memory:"
    return {
        "crm": create_crm(CrmSettings(database_url=memory)),
        "erp": create_erp(ErpSettings(database_url=memory)),
    }


def concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", SOME_ID, template)


def refusal_problem(response: httpx.Response) -> str | None:
    """What is wrong with `response` as the gateway's refusal (None: a proper one)."""
    if response.status_code != 403:
        return f"{response.status_code} instead of 403: {response.text[:200]}"
    if response.headers.get("content-type") != "application/problem+json":
        return f"403 as {response.headers.get('content-type')}, not problem+json"
    if response.json().get("status") != 403:
        return f"403 problem without its status: {response.text[:200]}"
    if MARKER in response.headers:
        return "403 came from the service, not the gateway"
    return None


@dataclass(frozen=True)
class Case:
    """One request to a gateway route: the roles allowed, and the status they get."""

    method: str
    route: str
    path: str
    allowed: frozenset[Role]
    expected: int
    body: Any = None
    # (method, target) the stub must see for an allowed role.
    reaches: tuple[str, str] | None = None


@dataclass
class Matrix:
    gateway: EdgeGateway
    stub: StubUpstream
    mismatches: list[str]
    cases: int = 0

    async def proxied(
        self, service: str, method: str, template: str, resource: str, action: str
    ) -> None:
        path = concrete(template)
        body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
        passed_on = PASSED_ON_FOR_THE_SERVICE_TO_REFUSE.get(
            (service, method, template), frozenset()
        )
        for role in ROLES:
            self.cases += 1
            where = f"{role.value} {method} /api/{service}{template} ({resource} {action})"
            before = len(self.stub.arrived)
            response = await self.gateway.client.request(
                method, f"/api/{service}{path}", json=body, headers=bearer(role.value)
            )
            arrivals = self.stub.arrived[before:]
            if may({role}, service, resource, action) or role in passed_on:
                reached = [(a.method, a.target) for a in arrivals]
                if reached != [(method, f"/{service}{path}")]:
                    self.fail(where, f"should reach the service once, it got {reached}")
                elif response.status_code != 200 or response.headers.get(MARKER) != str(
                    len(self.stub.arrived)
                ):
                    self.fail(where, f"not the service's answer: {response.status_code}")
            else:
                problem = refusal_problem(response)
                if problem is not None:
                    self.fail(where, problem)
                if arrivals:
                    self.fail(where, f"refused, yet the service saw {len(arrivals)} request(s)")

    async def own(self, case: Case) -> None:
        for role in ROLES:
            self.cases += 1
            where = f"{role.value} {case.method} {case.route}"
            before = len(self.stub.arrived)
            response = await self.gateway.client.request(
                case.method, case.path, json=case.body, headers=bearer(role.value)
            )
            arrivals = self.stub.arrived[before:]
            if role in case.allowed:
                if response.status_code != case.expected:
                    self.fail(
                        where,
                        f"{response.status_code} instead of {case.expected}: {response.text[:200]}",
                    )
                if case.reaches is not None and case.reaches not in {
                    (a.method, a.target) for a in arrivals
                }:
                    self.fail(where, f"never asked the service for {case.reaches}")
            else:
                problem = refusal_problem(response)
                if problem is not None:
                    self.fail(where, problem)
                if arrivals:
                    self.fail(where, f"refused, yet the service saw {len(arrivals)} request(s)")

    async def event_stream(self, base_url: str) -> None:
        """Every signed-in user opens the stream: 200, `text/event-stream`, and the route's
        first message (the reconnection delay); then it is closed at once."""
        timeout = httpx.Timeout(10, read=5)
        async with httpx.AsyncClient(base_url=base_url, timeout=timeout) as client:
            for role in ROLES:
                self.cases += 1
                where = f"{role.value} GET /api/events/stream"
                headers = bearer(role.value)
                async with client.stream("GET", "/api/events/stream", headers=headers) as answer:
                    kind = answer.headers.get("content-type", "")
                    if answer.status_code != 200 or not kind.startswith("text/event-stream"):
                        body = (await answer.aread()).decode()
                        self.fail(where, f"{answer.status_code} {kind}: {body[:200]}")
                        continue
                    first = await anext(line async for line in answer.aiter_lines() if line)
                    if not first.startswith("retry:"):
                        self.fail(where, f"the stream began with {first!r}")

    def fail(self, where: str, what: str) -> None:
        self.mismatches.append(f"{where}: {what}")


async def admin_post(gateway: EdgeGateway, path: str, body: Any) -> dict[str, Any]:
    response = await gateway.client.post(path, json=body, headers=bearer("admin"))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def gateway_cases(gateway: EdgeGateway) -> list[Case]:
    """A case for every method of every gateway route, on records made through the API."""
    user = await admin_post(
        gateway,
        "/auth/users",
        {"username": f"matrix-{uuid.uuid4().hex[:8]}", "password": "x" * 16, "roles": ["hr"]},
    )
    hook = {"url": "http://127.0.0.1:9/hooks", "event_types": ["erp.order.*"]}
    kept = await admin_post(gateway, "/api/webhooks", hook)
    doomed = await admin_post(gateway, "/api/webhooks", hook)
    users, hooks = "/auth/users", "/api/webhooks"
    user_path, kept_path = f"{users}/{user['id']}", f"{hooks}/{kept['id']}"
    new_user = {"username": f"matrix-{uuid.uuid4().hex[:8]}", "password": "y" * 16}
    return [
        Case("GET", users, users, ADMIN_ONLY, 200),
        Case("POST", users, users, ADMIN_ONLY, 201, {**new_user, "roles": ["support"]}),
        Case("GET", f"{users}/{{user_id}}", user_path, ADMIN_ONLY, 200),
        Case("PATCH", f"{users}/{{user_id}}", user_path, ADMIN_ONLY, 200, {"roles": ["finance"]}),
        Case("GET", hooks, hooks, ADMIN_ONLY, 200),
        Case("POST", hooks, hooks, ADMIN_ONLY, 201, hook),
        Case("GET", f"{hooks}/{{webhook_id}}", kept_path, ADMIN_ONLY, 200),
        Case("PATCH", f"{hooks}/{{webhook_id}}", kept_path, ADMIN_ONLY, 200, {"description": "M"}),
        Case("DELETE", f"{hooks}/{{webhook_id}}", f"{hooks}/{doomed['id']}", ADMIN_ONLY, 204),
        Case(
            "GET",
            f"{hooks}/{{webhook_id}}/deliveries",
            f"{kept_path}/deliveries",
            ADMIN_ONLY,
            200,
        ),
        Case(
            "POST",
            f"{hooks}/{{webhook_id}}/replay",
            f"{kept_path}/replay",
            ADMIN_ONLY,
            202,
            {"since": "2000-01-01T00:00:00Z"},
        ),
        # Operations (dead letters, outbox): the administrator's, as in every service.
        Case("GET", "/admin/dead-letters", "/admin/dead-letters", ADMIN_ONLY, 200),
        Case(
            "POST",
            "/admin/dead-letters/{letter_id}/replay",
            "/admin/dead-letters/999999/replay",
            ADMIN_ONLY,
            404,  # the route's own answer: there is no such letter
        ),
        Case("GET", "/admin/outbox", "/admin/outbox", ADMIN_ONLY, 200),
        Case(
            "POST",
            "/admin/outbox/republish",
            "/admin/outbox/republish",
            ADMIN_ONLY,
            200,
            {"since": "2000-01-01T00:00:00Z"},
        ),
        Case(
            "GET",
            "/api/customers/{customer_id}/overview",
            f"/api/customers/{SOME_ID}/overview",
            CUSTOMER_READERS,
            200,
            reaches=("GET", f"/crm/customers/{SOME_ID}"),
        ),
    ]


async def test_every_route_by_every_role(database_url: str) -> None:
    mismatches: list[str] = []
    async with (
        StubUpstream(answer_and_mark) as stub,
        edge_gateway(
            database_url,
            # One stub behind both services: the path it sees says which one was asked.
            crm_url=f"{stub.url}/crm",
            erp_url=f"{stub.url}/erp",
            webhook_allowed_private_hosts=["127.0.0.1"],
            rate_limit_per_ip=100_000,
            rate_limit_per_user=100_000,
        ) as gateway,
    ):
        matrix = Matrix(gateway, stub, mismatches)
        routes = [
            (service, *route)
            for service, app in service_apps().items()
            for route in checked_routes(app)
        ]
        stale = set(PASSED_ON_FOR_THE_SERVICE_TO_REFUSE) - {route[:3] for route in routes}
        assert not stale, f"no such service route any more: {stale}"
        for route in routes:
            await matrix.proxied(*route)

        cases = await gateway_cases(gateway)
        stream = ("GET", "/api/events/stream")
        covered = {(case.method, case.route) for case in cases} | {stream}
        guarded = {(method, path) for method, path, *_ in checked_routes(gateway.app)}
        assert covered == guarded, (
            f"gateway routes without a case: {sorted(guarded - covered)}; "
            f"cases of no route: {sorted(covered - guarded)}"
        )
        for case in cases:
            await matrix.own(case)
        async with serving(gateway.app, lifespan="off") as base_url:
            await matrix.event_stream(base_url)

    assert not mismatches, f"{len(mismatches)} of {matrix.cases} cases wrong:\n" + "\n".join(
        mismatches
    )
    # The matrix really walked both services (~115 routes) and all of the gateway's own.
    assert len(routes) > 100
    assert matrix.cases == (len(routes) + len(cases) + 1) * len(Role)
