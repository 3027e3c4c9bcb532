"""Each service's OpenAPI document describes every route, with examples of what goes in
and what comes out (design.md: the OpenAPI documents describe what the code does)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.contract

APPS = ("crm", "erp", "gateway")


def spec_of(package: str, tmp_path: Path) -> dict[str, Any]:
    main = importlib.import_module(f"{package}.main")
    config = importlib.import_module(f"{package}.config")
    app = main.create_app(config.Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db"))
    spec: dict[str, Any] = app.openapi()
    return spec


def exemplified(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    """True when the schema, what it refers to, or each alternative carries examples."""
    if "examples" in schema or "example" in schema:
        return True
    if "$ref" in schema:
        return exemplified(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    if schema.get("type") == "array":
        return exemplified(schema.get("items", {}), components)
    alternatives = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return bool(alternatives) and all(exemplified(s, components) for s in alternatives)


@pytest.mark.parametrize("package", APPS)
def test_every_route_is_summarised_and_exemplified(package: str, tmp_path: Path) -> None:
    spec = spec_of(package, tmp_path)
    components = spec.get("components", {}).get("schemas", {})
    gaps = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            if not operation.get("summary"):
                gaps.append(f"{where}: no summary")
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body and not (
                "example" in body or "examples" in body or exemplified(body["schema"], components)
            ):
                gaps.append(f"{where}: request body without examples")
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get("application/json")
                if not status.startswith("2") or media is None:
                    continue
                if "example" in media or "examples" in media:
                    continue
                if not exemplified(media.get("schema", {}), components):
                    gaps.append(f"{where}: {status} response without examples")
    assert gaps == []


def public_paths(package: str) -> set[str]:
    """Paths of a service's `public_routers()` (sign-in, public keys): open by design."""
    api = importlib.import_module(f"{package}.api")
    routers = getattr(api, "public_routers", list)()
    return {getattr(route, "path", "") for router in routers for route in router.routes}


@pytest.mark.parametrize("package", APPS)
def test_protected_routes_declare_the_bearer_scheme(package: str, tmp_path: Path) -> None:
    spec = spec_of(package, tmp_path)
    open_paths = {"/healthz", "/readyz", "/metrics"} | public_paths(package)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            secured = bool(operation.get("security"))
            assert secured == (path not in open_paths), f"{method.upper()} {path}"


def request_field(spec: dict[str, Any], model: str, field: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec["components"]["schemas"][model]["properties"][field]
    return schema


def offers_null(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(offers_null(s) for s in schema.get("anyOf", []))


def test_patch_fields_that_refuse_null_are_documented_as_not_nullable(tmp_path: Path) -> None:
    """A client generated from the document must not send a null the service answers
    with a 422: fields a record always has offer no null, a removable one still does."""
    crm, erp = spec_of("crm", tmp_path), spec_of("erp", tmp_path)
    assert not offers_null(request_field(crm, "CustomerUpdate", "name"))
    assert not offers_null(request_field(crm, "CustomerUpdate", "custom_fields"))
    assert offers_null(request_field(crm, "CustomerUpdate", "email"))
    assert not offers_null(request_field(erp, "ProductUpdate", "name"))
    assert not offers_null(request_field(erp, "WarehouseUpdate", "name"))
    assert offers_null(request_field(erp, "WarehouseUpdate", "address"))
    assert request_field(erp, "ProductUpdate", "name")["maxLength"] == 200
    assert "default" not in request_field(erp, "ProductUpdate", "name")
