"""The API documents frontends read: one OpenAPI document merging the gateway's own routes
with both services' under their prefixes (`/api/crm`, `/api/erp`), rendered at `/docs`,
and the AsyncAPI event catalogue at `/asyncapi.json`."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from gateway.config import Settings
from shared_schemas.events.asyncapi import asyncapi_document

log = logging.getLogger(__name__)

public_router = APIRouter(tags=["documents"])

OWN_DOCUMENT = "/gateway/openapi.json"
UPSTREAMS = {"crm": "CRM", "erp": "ERP"}
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


async def _fetch(client: httpx.AsyncClient, name: str, base_url: str) -> dict[str, Any] | None:
    try:
        response = await client.get(f"{base_url.rstrip('/')}/openapi.json")
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("the %s API document is unavailable: %s", name, exc)
        return None


@public_router.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    timeout = httpx.Timeout(
        settings.upstream_read_timeout, connect=settings.upstream_connect_timeout
    )
    async with httpx.AsyncClient(timeout=timeout) as client:
        fetched = await asyncio.gather(
            _fetch(client, "crm", settings.crm_url), _fetch(client, "erp", settings.erp_url)
        )
    upstream = {name: doc for name, doc in zip(UPSTREAMS, fetched, strict=True) if doc is not None}
    merged = merge_documents(request.app.openapi(), upstream)
    missing = sorted(set(UPSTREAMS) - set(upstream))
    if missing:
        # Served anyway: what is up is documented; the gap is named, not hidden.
        merged["x-degraded"] = missing
    return JSONResponse(merged)


@public_router.get("/docs", include_in_schema=False)
async def documentation() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="CRM + ERP API")


@public_router.get("/asyncapi.json", include_in_schema=False)
async def asyncapi() -> JSONResponse:
    return JSONResponse(asyncapi_document())
