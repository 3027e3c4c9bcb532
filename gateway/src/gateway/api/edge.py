"""The gateway's edge, in front of everything it answers: CORS, rate limits per IP and per
user, the body size limit, and routing `/api/crm/...` and `/api/erp/...` to the services.

A method other than GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS is a 405 on every
path, before anything else. Proxied requests never enter the FastAPI app: the edge
checks the token (401), the role against the permission table (403), the page size
(422) and hands the request to api.proxy. Everything else goes on to the app with the
same limits applied. The probes are never rate limited (orchestrators and scrapers call
them all the time).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import FastAPI
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import State
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.adapters.metrics import RATE_LIMIT_ERRORS, RATE_LIMITED
from gateway.adapters.rate_limits import RateLimits, rate_limits
from gateway.adapters.upstream import Timeouts, Upstream
from gateway.api.proxy import (
    Incoming,
    answer_problem,
    forward,
    quiet_deliberate_cuts,
    read_headers,
    request_id_or_new,
)
from gateway.config import Settings
from gateway.domain.breaker import CircuitBreaker
from gateway.domain.identity import bearer_token
from gateway.domain.rate_limits import Quota, client_key
from gateway.domain.routes import ProxiedRoute, classify
from shared_schemas.http.body_limit import BodyOverLimit
from shared_schemas.http.middleware import REQUEST_LATENCY, method_label
from shared_schemas.http.pagination import MAX_LIMIT
from shared_schemas.http.problems import Problem
from shared_schemas.http.wire_numbers import whole_number
from shared_schemas.identity import InvalidToken, KeysUnavailable, Principal, unauthorized

log = logging.getLogger(__name__)

# The methods the API answers (design §4); any other is a 405 here, whatever the path.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PROBES = frozenset({"/healthz", "/healthz/upstreams", "/readyz", "/metrics"})
API_PREFIX = "/api/"
# Both services have ~120 routes; more templates than this are made-up paths.
MAX_TEMPLATES = 500
# Headers a browser app may send and read across origins.
CORS_REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "Last-Event-ID",
    "X-Request-ID",
    "traceparent",
    "tracestate",
)
CORS_EXPOSED_HEADERS = (
    "ETag",
    "Location",
    "Retry-After",
    "X-Request-ID",
    "Idempotent-Replayed",
    "WWW-Authenticate",
)


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        state: State,
        settings: Settings,
        upstreams: Mapping[str, Upstream],
        limits: RateLimits,
    ) -> None:
        self.app = app
        self.state = state
        self.upstreams = dict(upstreams)
        self.limits = limits
        self.max_body = settings.max_body_bytes
        self.per_ip = settings.rate_limit_per_ip
        self.per_user = settings.rate_limit_per_user
        self._latency: dict[tuple[str, str, int], Any] = {}
        self._templates: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in METHODS:
            await self._refuse_method(scope, receive, send)
            return
        path: str = scope["path"]
        upstream = self._upstream_of(path)
        if upstream is not None:
            await self._proxy(scope, receive, send, upstream)
            return
        if path in PROBES:
            await self.app(scope, receive, send)
            return
        await self._pass_on(scope, receive, send)

    def _upstream_of(self, path: str) -> Upstream | None:
        """The service a path goes to (`/api/crm/...`), None for the gateway's own."""
        if path.startswith(API_PREFIX) and path[8:9] == "/":
            return self.upstreams.get(path[5:8])
        return None

    async def _refuse_method(self, scope: Scope, receive: Receive, send: Send) -> None:
        """CONNECT, TRACE and made-up methods: no route anywhere takes them, and none is
        passed on (a client library may turn CONNECT's target into another host)."""
        problem = Problem(
            405,
            "This method is not allowed; the API answers only the methods in Allow.",
            headers={"Allow": ", ".join(METHODS)},
        )
        started = time.perf_counter()
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")
        await answer_problem(scope, receive, send, problem, request_id_or_new(request_id))
        upstream = self._upstream_of(scope["path"])
        # Counted as the app counts a request no route took, or as a proxied one refused.
        template = f"/api/{upstream.name}/{{path}}" if upstream is not None else "unmatched"
        self._observe(scope["method"], template, 405, time.perf_counter() - started)

    async def _proxy(self, scope: Scope, receive: Receive, send: Send, upstream: Upstream) -> None:
        started = time.perf_counter()
        method: str = scope["method"]
        prefix = len(upstream.name) + 5  # "/api/erp"
        template = f"/api/{upstream.name}/{{path}}"
        status = 500
        incoming = read_headers(scope)
        try:
            route = await self._admit(scope, upstream, incoming, prefix)
            status = await forward(
                scope,
                receive,
                send,
                upstream=upstream,
                target=_target(scope, prefix),
                incoming=incoming,
                max_body_bytes=self.max_body,
            )
            if status not in (404, 405) and self._known(route.template):
                template = route.template
        except Problem as problem:
            status = await answer_problem(scope, receive, send, problem, incoming.request_id)
        finally:
            self._observe(method, template, status, time.perf_counter() - started)

    async def _admit(
        self, scope: Scope, upstream: Upstream, incoming: Incoming, prefix: int
    ) -> ProxiedRoute:
        """The route a proxied request stands for, or the Problem that refuses it here:
        429, 401, 404 (a path no service has), 403, 422 (page size), 413 (announced).
        Authorization is a singleton field: with two, the service might read another token
        than the one judged here, so neither counts."""
        single = incoming.authorizations <= 1
        principal = await self._principal(incoming.authorization) if single else None
        refusal = await self._limit(scope, principal)
        if refusal is not None:
            raise refusal
        if principal is None:
            raise unauthorized(token_sent=bearer_token(incoming.authorization) is not None)
        route = classify(upstream.name, scope["method"], scope["path"][prefix:])
        if route is None:
            raise Problem(404, "No such resource.", kind="not-found")
        if not route.allowed_for(principal.roles):
            raise Problem(
                403, f"Your role may not {route.action} {route.resource}.", kind="forbidden"
            )
        too_many = _page_size_problem(scope["query_string"])
        if too_many is not None:
            raise too_many
        length = incoming.content_length
        if length is not None and not 0 <= length <= self.max_body:
            raise BodyOverLimit(self.max_body)
        return route

    async def _pass_on(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A request for the gateway's own routes: limits here, the rest in the app."""
        authorization = request_id = None
        for name, value in scope["headers"]:
            if name == b"authorization" and authorization is None:  # the one the app reads
                authorization = value.decode("latin-1")
            elif name == b"x-request-id":
                request_id = value.decode("latin-1")
        try:
            principal = await self._principal(authorization)
            problem = await self._limit(scope, principal)
        except Problem as unavailable:
            problem = unavailable
        if problem is not None:
            await answer_problem(scope, receive, send, problem, request_id_or_new(request_id))
            return
        if principal is not None:  # the app's token checks take it as verified
            scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)  # whose body limit is the same as here

    async def _principal(self, authorization: str | None) -> Principal | None:
        token = bearer_token(authorization)
        if token is None:
            return None
        try:
            principal: Principal = await self.state.token_verifier.verify(token)
        except InvalidToken:
            return None
        except KeysUnavailable as exc:
            raise Problem(
                503,
                "Tokens cannot be verified right now.",
                kind="dependency-unavailable",
                headers={"Retry-After": "5"},
            ) from exc
        return principal

    async def _limit(self, scope: Scope, principal: Principal | None) -> Problem | None:
        client = scope.get("client")
        quotas = [Quota(f"ip:{client_key(client[0]) if client else 'unknown'}", self.per_ip)]
        if principal is not None:
            quotas.append(Quota(f"user:{principal.user_id}", self.per_user))
        refusal = await self.limits.check(quotas)
        if refusal is None:
            return None
        scope_name = refusal.key.partition(":")[0]
        RATE_LIMITED.labels(scope_name).inc()
        who = "this address" if scope_name == "ip" else "you"
        return Problem(
            429,
            f"Too many requests from {who}; try again in {refusal.retry_after_header} s.",
            kind="rate-limited",
            headers={"Retry-After": refusal.retry_after_header},
        )

    def _known(self, template: str) -> bool:
        """Whether to count under this template: at most MAX_TEMPLATES of them, so that
        made-up paths the services answer with an error cannot grow the label set."""
        if template in self._templates:
            return True
        if len(self._templates) >= MAX_TEMPLATES:
            return False
        self._templates.add(template)
        return True

    def _observe(self, method: str, template: str, status: int, seconds: float) -> None:
        method = method_label(method)
        key = (method, template, status)
        child = self._latency.get(key)
        if child is None:
            child = self._latency[key] = REQUEST_LATENCY.labels(method, template, str(status))
        child.observe(seconds)


def _target(scope: Scope, prefix: int) -> str:
    """The service's path and query, as the client encoded them when the service's path
    starts with a plain `/` there. After an encoded one (`/api/crm%2Fcustomers`) the raw
    rest would follow the service's port in its URL and could name another host
    (`%2F@elsewhere/...`): the decoded path, re-encoded, is sent instead."""
    raw: bytes | None = scope.get("raw_path")
    path: str = scope["path"]
    if raw is not None and raw.decode("latin-1").startswith(path[: prefix + 1]):
        target = raw[prefix:].decode("latin-1")
    else:
        target = quote(path[prefix:])
    query: bytes = scope["query_string"]
    return f"{target}?{query.decode('latin-1')}" if query else target


def _page_size_problem(query: bytes) -> Problem | None:
    """Design §4: a page has at most 200 items; more is a 422 before any service is asked.
    The query is judged as the service reads it: names decoded (`%6cimit` is `limit`),
    every `limit` in it, each read as the service reads a number (`+201`, `201.0`)."""
    if b"limit" not in query and b"%" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1")):
        if name == "limit" and _page_size(value) > MAX_LIMIT:
            return Problem(
                422,
                "The request is not valid.",
                kind="validation-error",
                title="Validation error",
                errors=[{"field": "query.limit", "message": f"at most {MAX_LIMIT}"}],
            )
    return None


_NUMBER = TypeAdapter(int)


def _page_size(value: str) -> int:
    """The number the service reads in `value` (0 when it reads none)."""
    size = whole_number(value, MAX_LIMIT + 1)
    if size is not None:
        return size
    try:
        return _NUMBER.validate_python(value)
    except ValidationError:
        return 0


def install_edge(app: FastAPI, settings: Settings) -> None:
    """Put the edge in front of `app`: its upstream clients open and close with the app's
    lifespan (and open on first use when an app is driven without one)."""
    timeouts = Timeouts(settings.upstream_connect_timeout, settings.upstream_read_timeout)
    upstreams = {
        name: Upstream(
            name,
            url,
            timeouts=timeouts,
            pool_size=settings.upstream_pool_size,
            breaker=CircuitBreaker(
                failures=settings.breaker_failures, cooldown=settings.breaker_cooldown_seconds
            ),
        )
        for name, url in (("crm", settings.crm_url), ("erp", settings.erp_url))
    }
    limits = rate_limits(settings.redis_url, on_error=RATE_LIMIT_ERRORS.inc)
    app.state.upstreams = upstreams
    app.state.rate_limits = limits
    quiet_deliberate_cuts()
    app.add_middleware(Edge, state=app.state, settings=settings, upstreams=upstreams, limits=limits)
    if settings.cors_origins:
        # Outermost, so that refusals (401, 429, ...) carry CORS headers a browser reads.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"),
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=600,
        )
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        for upstream in upstreams.values():
            await upstream.start()
        try:
            async with inner(application) as state:
                yield state
        finally:
            for upstream in upstreams.values():
                await upstream.close()
            await limits.close()

    app.router.lifespan_context = lifespan
