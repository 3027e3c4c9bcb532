"""The API documents frontends read: one OpenAPI document merging the gateway's own routes
with both services' under their prefixes (`/api/crm`, `/api/erp`), rendered at `/docs`,
and the AsyncAPI event catalogue at `/asyncapi.json`. The services' documents are
fetched through the same pooled clients and breakers as proxied requests, and a complete
merged document is kept for a minute."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from gateway.adapters.upstream import Upstream, UpstreamFailure
from gateway.api.edge import PROBES
from gateway.domain.breaker import CircuitOpen
from shared_schemas.events.asyncapi import asyncapi_document
from shared_schemas.http.openapi import (
    RESPONSE_REF,
    describe_conventions,
    drop_unused_validation_schema,
    problem_response,
    shared_component,
)
from shared_schemas.identity import BEARER_SCHEME

log = logging.getLogger(__name__)

public_router = APIRouter(tags=["documents"])

OWN_DOCUMENT = "/gateway/openapi.json"
UPSTREAMS = {"crm": "CRM", "erp": "ERP"}
# How long a merged document is served before the services are asked again.
CACHE_SECONDS = 60.0
_KINDS = ("schemas", "responses", "headers", "parameters")
_REF = re.compile(r'"#/components/(schemas|responses|headers|parameters)/([^"]+)"')
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_RETRY_AFTER = {"Retry-After": "RetryAfter"}

# What the gateway's edge answers itself (api/edge.py, api/proxy.py): a rate limit on every
# route but the probes, and for a proxied request, a service it cannot get an answer from.
EDGE_RESPONSES: dict[str, dict[str, Any]] = {
    "TooManyRequests": problem_response(
        "Too many requests from this address or user; try again after `Retry-After`.",
        **_RETRY_AFTER,
    ),
    "BadGateway": problem_response(
        "The service closed the connection without an answer, or its answer broke off."
    ),
    "UpstreamUnavailable": problem_response(
        "The service is unreachable or recovering from failures, or its database or the "
        "token keys are not answering; try again after `Retry-After`.",
        **_RETRY_AFTER,
    ),
    "UpstreamTimeout": problem_response("The service did not answer in time."),
}
_PROXIED = {"502": "BadGateway", "503": "UpstreamUnavailable", "504": "UpstreamTimeout"}


def merge_documents(
    own: Mapping[str, Any], upstream: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The gateway's document with each upstream's paths under `/api/<name>` and its
    components (schemas, responses, headers, parameters) renamed `<Name><Component>`
    (both services have a `Page_...`, say), references rewritten to match; the components
    every app's document shares (`Problem`, ...) are kept once, under their own names.
    Tags are prefixed with the service's name, operation ids with its name and `_`
    (`crm_healthz_healthz_get`) so that they stay unique. Every proxied operation needs
    the bearer token, as at the gateway. The edge's own answers (429 everywhere but the probes; 502,
    503, 504 on proxied routes) are added to the operations."""
    merged = copy.deepcopy(dict(own))
    paths: dict[str, Any] = merged.setdefault("paths", {})
    components: dict[str, Any] = merged.setdefault("components", {})
    tags: list[dict[str, Any]] = merged.setdefault("tags", [])
    for name, document in upstream.items():
        label = UPSTREAMS[name]
        renamed = _renamed(document, label)
        for path, operations in renamed.get("paths", {}).items():
            for operation in _operations(operations):
                if "tags" in operation:
                    operation["tags"] = [f"{label} {tag}" for tag in operation["tags"]]
                # The gateway proxies no route without a token, a service's probes
                # included (those are reached on the service itself).
                operation.setdefault("security", [{BEARER_SCHEME: []}])
                _answer(operation, _PROXIED, replace=True)
                # Unique in the whole document (OpenAPI's rule; generated clients name
                # their methods by it): each service, and the gateway, has a `healthz`.
                if isinstance(operation.get("operationId"), str):
                    operation["operationId"] = f"{name}_{operation['operationId']}"
            paths[f"/api/{name}{path}"] = operations
        for kind in _KINDS:
            for component, definition in renamed.get("components", {}).get(kind, {}).items():
                section = components.setdefault(kind, {})
                if shared_component(kind, component):
                    section.setdefault(component, definition)
                else:
                    section[f"{label}{component}"] = definition
        for tag in renamed.get("tags", []):
            tags.append({**tag, "name": f"{label} {tag['name']}"})
        for scheme, definition in renamed.get("components", {}).get("securitySchemes", {}).items():
            components.setdefault("securitySchemes", {}).setdefault(scheme, definition)
    # Again over the whole: a route the gateway put in its own document after the shared
    # layer described it (its `/healthz`) is described too.
    describe_conventions(merged)
    for path, operations in paths.items():
        if path not in PROBES:
            for operation in _operations(operations):
                _answer(operation, {"429": "TooManyRequests"}, replace=False)
    responses = components.setdefault("responses", {})
    for component, definition in EDGE_RESPONSES.items():
        responses.setdefault(component, copy.deepcopy(definition))
    drop_unused_validation_schema(merged)
    for kind in _KINDS:
        if kind in components:
            components[kind] = dict(sorted(components[kind].items()))
    if not tags:
        merged.pop("tags")
    return merged


def _renamed(document: Mapping[str, Any], label: str) -> dict[str, Any]:
    """`document` with every reference to a component of its own renamed `<label><name>`,
    in one pass over the serialised document."""

    def rename(match: re.Match[str]) -> str:
        kind, name = match.groups()
        if shared_component(kind, name):
            return match.group(0)
        return f'"#/components/{kind}/{label}{name}"'

    renamed: dict[str, Any] = json.loads(_REF.sub(rename, json.dumps(document)))
    return renamed


def _operations(path_item: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for method, operation in path_item.items()
        if method in _METHODS and isinstance(operation, dict)
    ]


def _answer(operation: dict[str, Any], statuses: Mapping[str, str], *, replace: bool) -> None:
    """Add (or with `replace`, put in place of the service's) the edge's responses."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, component in statuses.items():
        if replace or status not in responses:
            responses[status] = {"$ref": RESPONSE_REF + component}
    operation["responses"] = dict(sorted(responses.items()))


async def _fetch(upstream: Upstream) -> dict[str, Any] | None:
    """The service's OpenAPI document, through its pooled client and circuit breaker."""
    try:
        response = await upstream.send(
            "GET", "/openapi.json", [("accept", "application/json")], None, replayable=True
        )
    except (UpstreamFailure, CircuitOpen) as exc:
        log.warning("the %s API document is unavailable: %s", upstream.name, exc)
        return None
    try:
        if response.status != 200:
            log.warning("the %s API document is unavailable: %s", upstream.name, response.status)
            return None
        document: dict[str, Any] = json.loads(await response.read())
        return document
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("the %s API document is unavailable: %s", upstream.name, exc)
        return None
    finally:
        upstream.release(response)


@dataclass
class _Cached:
    document: dict[str, Any]
    until: float


@public_router.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request) -> JSONResponse:
    cached: _Cached | None = getattr(request.app.state, "merged_openapi", None)
    if cached is not None and time.monotonic() < cached.until:
        return JSONResponse(cached.document)
    upstreams: Mapping[str, Upstream] = request.app.state.upstreams
    fetched = await asyncio.gather(*(_fetch(upstreams[name]) for name in UPSTREAMS))
    upstream = {name: doc for name, doc in zip(UPSTREAMS, fetched, strict=True) if doc is not None}
    merged = merge_documents(request.app.openapi(), upstream)
    missing = sorted(set(UPSTREAMS) - set(upstream))
    if missing:
        # Served anyway: what is up is documented; the gap is named, not hidden, and the
        # next call asks again.
        merged["x-degraded"] = missing
    else:
        # The services' documents change with a deployment, not between requests.
        request.app.state.merged_openapi = _Cached(merged, time.monotonic() + CACHE_SECONDS)
    return JSONResponse(merged)


@public_router.get("/docs", include_in_schema=False)
async def documentation() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="CRM + ERP API")


@public_router.get("/redoc", include_in_schema=False)
async def reference() -> HTMLResponse:
    return get_redoc_html(openapi_url="/openapi.json", title="CRM + ERP API")


@public_router.get("/asyncapi.json", include_in_schema=False)
async def asyncapi() -> JSONResponse:
    return JSONResponse(asyncapi_document())
