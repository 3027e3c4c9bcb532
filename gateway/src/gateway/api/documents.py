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
from gateway.domain.breaker import CircuitOpen
from shared_schemas.events.asyncapi import asyncapi_document

log = logging.getLogger(__name__)

public_router = APIRouter(tags=["documents"])

OWN_DOCUMENT = "/gateway/openapi.json"
UPSTREAMS = {"crm": "CRM", "erp": "ERP"}
# How long a merged document is served before the services are asked again.
CACHE_SECONDS = 60.0
_REF = re.compile(r'"#/components/schemas/([^"]+)"')


def merge_documents(
    own: Mapping[str, Any], upstream: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The gateway's document with each upstream's paths under `/api/<name>` and its
    schemas renamed `<Name><Schema>` (both services have a `Page_...` or `Problem`, say),
    references rewritten to match. Tags are prefixed with the service's name."""
    merged = copy.deepcopy(dict(own))
    paths: dict[str, Any] = merged.setdefault("paths", {})
    schemas: dict[str, Any] = merged.setdefault("components", {}).setdefault("schemas", {})
    tags: list[dict[str, Any]] = merged.setdefault("tags", [])
    for name, document in upstream.items():
        label = UPSTREAMS[name]
        # Rename every schema reference in one pass over the serialised document.
        text = _REF.sub(f'"#/components/schemas/{label}\\1"', json.dumps(document))
        renamed = json.loads(text)
        for path, operations in renamed.get("paths", {}).items():
            for operation in operations.values():
                if isinstance(operation, dict) and "tags" in operation:
                    operation["tags"] = [f"{label} {tag}" for tag in operation["tags"]]
            paths[f"/api/{name}{path}"] = operations
        for schema_name, schema in renamed.get("components", {}).get("schemas", {}).items():
            schemas[f"{label}{schema_name}"] = schema
        for tag in renamed.get("tags", []):
            tags.append({**tag, "name": f"{label} {tag['name']}"})
        for scheme, definition in renamed.get("components", {}).get("securitySchemes", {}).items():
            merged["components"].setdefault("securitySchemes", {}).setdefault(scheme, definition)
    if not tags:
        merged.pop("tags")
    return merged


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
        response.release()


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
