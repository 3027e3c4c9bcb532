"""The edge's rules without I/O: which permission a proxied path stands for (never
stricter than the services' own check), the circuit breaker's states, the rate-limit
arithmetic and the trace context."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from gateway.domain.breaker import BreakerState, CircuitBreaker, CircuitOpen
from gateway.domain.rate_limits import Quota, decide
from gateway.domain.routes import ProxiedRoute, classify
from gateway.domain.trace_context import child_traceparent
from shared_schemas.identity import Authorize
from shared_schemas.permissions import may
from shared_schemas.roles import Role

pytestmark = pytest.mark.unit


def route(service: str, method: str, path: str) -> ProxiedRoute:
    found = classify(service, method, path)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("service", "method", "path", "resource", "action", "template"),
    [
        ("crm", "GET", "/customers", "customers", "read", "/api/crm/customers"),
        ("crm", "POST", "/customers", "customers", "create", "/api/crm/customers"),
        (
            "crm",
            "PATCH",
            "/customers/0b1e4f1a-8b7c-4d5e-9f00-112233445566",
            "customers",
            "update",
            "/api/crm/customers/{id}",
        ),
        ("crm", "POST", "/quotes/7/accept", "quotes", "accept", "/api/crm/quotes/{id}/accept"),
        (
            "crm",
            "POST",
            "/customers/5/contacts",
            "contacts",
            "create",
            "/api/crm/customers/{id}/contacts",
        ),
        ("crm", "GET", "/forecast", "opportunities", "read", "/api/crm/forecast"),
        (
            "erp",
            "POST",
            "/orders/9/shipments",
            "shipments",
            "create",
            "/api/erp/orders/{id}/shipments",
        ),
        ("erp", "POST", "/orders/9/deliver", "orders", "deliver", "/api/erp/orders/{id}/deliver"),
        ("erp", "POST", "/stock/movements", "stock", "create", "/api/erp/stock/movements"),
        ("erp", "PUT", "/budgets/4/2026-01", "budgets", "update", "/api/erp/budgets/{id}/{id}"),
        (
            "erp",
            "POST",
            "/admin/dead-letters/3/replay",
            "dead-letters",
            "replay",
            "/api/erp/admin/dead-letters/{id}/replay",
        ),
        ("crm", "GET", "/admin/outbox", "outbox", "read", "/api/crm/admin/outbox"),
    ],
)
def test_a_path_names_its_resource_and_action(
    service: str, method: str, path: str, resource: str, action: str, template: str
) -> None:
    assert route(service, method, path) == ProxiedRoute(service, resource, action, template)


@pytest.mark.parametrize("path", ["/", "", "/orders//1", "/orders/../admin", "/./orders"])
def test_paths_no_service_route_can_have_are_refused(path: str) -> None:
    assert classify("erp", "GET", path) is None


def service_routes(app: FastAPI) -> Iterator[tuple[str, str, tuple[str, str] | None]]:
    """(method, path, the route's Authorize(resource, action) or None) of every route."""
    for candidate in app.routes:
        contexts = getattr(candidate, "effective_route_contexts", None)
        for context in contexts() if contexts else [candidate]:
            original = getattr(context, "original_route", context)
            if not isinstance(original, APIRoute):
                continue
            checks = list(authorizations(original.dependant))
            for method in original.methods:
                yield method, str(context.path), checks[0] if checks else None


def authorizations(dependant: Any) -> Iterator[tuple[str, str]]:
    if isinstance(dependant.call, Authorize):
        yield dependant.call.resource, dependant.call.action
    for child in dependant.dependencies:
        yield from authorizations(child)


def services() -> dict[str, FastAPI]:
    from crm.config import Settings as CrmSettings
    from crm.main import create_app as create_crm
    from erp.config import Settings as ErpSettings
    from erp.main import create_app as create_erp

    memory = "sqlite+aiosqlite:///:memory:"
    return {
        "crm": create_crm(CrmSettings(database_url=memory)),
        "erp": create_erp(ErpSettings(database_url=memory)),
    }


def test_the_gateway_never_refuses_what_a_service_would_allow() -> None:
    """For every route of both services and every role: when the service's own
    route-level check lets the role in, so does the gateway."""
    checked = 0
    for service, app in services().items():
        for method, path, check in service_routes(app):
            if check is None:
                continue
            concrete = re.sub(r"\{[^}]+\}", "0b1e4f1a-8b7c-4d5e-9f00-112233445566", path)
            proxied = route(service, method, concrete)
            for role in Role:
                if may({role}, service, *check):
                    assert proxied.allowed_for(frozenset({role})), (role, method, path, proxied)
                    checked += 1
    assert checked > 200


@pytest.mark.parametrize(
    ("role", "service", "method", "path"),
    [
        (Role.WAREHOUSE, "crm", "GET", "/customers"),
        (Role.HR, "crm", "GET", "/leads"),
        (Role.SALES, "erp", "GET", "/employees"),
        (Role.SUPPORT, "crm", "POST", "/quotes/1/accept"),
        (Role.FINANCE, "erp", "POST", "/orders/1/shipments"),
        (Role.SALES_MANAGER, "erp", "GET", "/admin/dead-letters"),
        (Role.SALES_MANAGER, "crm", "POST", "/admin/outbox/republish"),
    ],
)
def test_obviously_forbidden_traffic_stops_at_the_gateway(
    role: Role, service: str, method: str, path: str
) -> None:
    assert not route(service, method, path).allowed_for(frozenset({role}))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_failures_in_a_row_and_probes_once_after_the_cool_down() -> None:
    clock = Clock()
    states: list[BreakerState] = []
    breaker = CircuitBreaker(failures=3, cooldown=10, clock=clock, on_change=states.append)
    for _ in range(2):
        breaker.failed(breaker.acquire())
    breaker.succeeded(breaker.acquire())  # a success in between: the count starts again
    for _ in range(3):
        breaker.failed(breaker.acquire())
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen) as refused:
        breaker.acquire()
    assert refused.value.retry_after_header == "10"

    clock.now += 10
    probe = breaker.acquire()
    assert probe.probe
    assert breaker.state is BreakerState.HALF_OPEN
    with pytest.raises(CircuitOpen):
        breaker.acquire()  # one probe at a time
    breaker.failed(probe)
    assert breaker.state is BreakerState.OPEN  # a failed probe reopens for a full cool-down
    clock.now += 9
    with pytest.raises(CircuitOpen):
        breaker.acquire()

    clock.now += 1
    breaker.abandoned(breaker.acquire())  # the client went away: the next one probes
    breaker.succeeded(breaker.acquire())
    assert breaker.state is BreakerState.CLOSED
    assert states == [
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.CLOSED,
    ]


def test_a_late_answer_from_before_the_circuit_opened_decides_nothing() -> None:
    breaker = CircuitBreaker(failures=1, cooldown=10, clock=Clock())
    early = breaker.acquire()
    breaker.failed(breaker.acquire())
    breaker.succeeded(early)
    assert breaker.state is BreakerState.OPEN


def test_a_limit_allows_a_burst_then_one_request_per_interval() -> None:
    quota = Quota("user:ada", 3)
    stored: float | None = None
    now = 1000.0
    for _ in range(3):
        refusal, (stored,) = decide([quota], [stored], now)
        assert refusal is None
    refusal, _ = decide([quota], [stored], now)
    assert refusal is not None
    assert refusal.retry_after == pytest.approx(20)
    assert refusal.retry_after_header == "20"
    refusal, _ = decide([quota], [stored], now + 20)
    assert refusal is None


def test_a_request_refused_by_one_limit_is_charged_to_none() -> None:
    roomy, tight = Quota("ip:1", 100), Quota("user:ada", 1)
    _, (ip_after_one, user_after_one) = decide([roomy, tight], [None, None], 0.0)
    refusal, _ = decide([roomy, tight], [ip_after_one, user_after_one], 0.0)
    assert refusal is not None
    assert refusal.key == "user:ada"
    assert refusal.retry_after == pytest.approx(60)


def test_the_gateway_s_call_is_a_child_span_of_the_caller_s() -> None:
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
    child = child_traceparent(parent)
    assert child.startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-")
    assert child.endswith("-00")
    assert child.split("-")[2] != "00f067aa0ba902b7"
    spans = {child_traceparent(parent).split("-")[2] for _ in range(100)}
    assert len(spans) == 100


@pytest.mark.parametrize(
    "broken",
    [
        None,
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
    ],
)
def test_without_a_usable_trace_context_the_gateway_starts_a_trace(broken: str | None) -> None:
    started = child_traceparent(broken)
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", started)
    assert "4bf92f3577b34da6a3ce929d0e0e4736" not in started.lower()


def test_ids_differ_across_many_new_traces() -> None:
    traces = {child_traceparent(None).split("-")[1] for _ in itertools.repeat(None, 200)}
    assert len(traces) == 200
