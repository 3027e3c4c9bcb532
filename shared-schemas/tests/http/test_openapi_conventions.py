"""The OpenAPI documents of the three apps say what the shared HTTP layer does: every error
is a Problem as application/problem+json, a POST takes `Idempotency-Key`, a protected route
may answer 401, 403 and 503, a body 413; and the documents stay valid and generated once."""

from __future__ import annotations

import copy
import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import schemathesis

from shared_schemas.http.concurrency import IF_MATCH_FORM, expected_version
from shared_schemas.http.openapi import describe_conventions
from shared_schemas.http.problems import Problem
from shared_schemas.identity import development_signer
from tests.support.harness import migrate

pytestmark = pytest.mark.contract

APPS = ("crm", "erp", "gateway")
PROBLEM_JSON = "application/problem+json"
_REF = re.compile(r'"(#/components/(\w+)/([^"]+))"')


def app_of(package: str, tmp_path: Path) -> Any:
    main = importlib.import_module(f"{package}.main")
    config = importlib.import_module(f"{package}.config")
    return main.create_app(config.Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db"))


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("documents")
    return {package: app_of(package, folder / package).openapi() for package in APPS}


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        _, _, kind, name = node["$ref"].split("/")
        node = document["components"][kind][name]
    return node


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def parameter(document: dict[str, Any], operation: dict[str, Any], name: str) -> dict[str, Any]:
    found = [
        resolved
        for p in operation.get("parameters", [])
        if (resolved := resolve(document, p))["name"].lower() == name.lower()
    ]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def problem_schema(document: dict[str, Any]) -> dict[str, Any]:
    """The documented Problem schema, as a JSON Schema resolving its references."""
    return {"$ref": "#/components/schemas/Problem", "components": document["components"]}


@pytest.mark.parametrize("package", APPS)
def test_the_document_is_valid_and_every_reference_resolves(
    package: str, documents: dict[str, dict[str, Any]]
) -> None:
    document = documents[package]
    schemathesis.openapi.from_dict(copy.deepcopy(document)).validate()
    for ref, kind, name in _REF.findall(json.dumps(document)):
        assert name in document["components"].get(kind, {}), ref
    for schema in document["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("package", APPS)
def test_every_error_answer_is_a_problem(
    package: str, documents: dict[str, dict[str, Any]]
) -> None:
    document = documents[package]
    errors_seen = 0
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            response = resolve(document, response)
            assert "X-Request-ID" in response["headers"], f"{method} {path} {status}"
            if status[0] not in "45":
                continue
            where = f"{method.upper()} {path} {status}"
            assert list(response["content"]) == [PROBLEM_JSON], where
            schema = resolve(document, response["content"][PROBLEM_JSON]["schema"])
            assert schema is document["components"]["schemas"]["Problem"], where
            errors_seen += 1
    assert errors_seen, "no error answer documented: nothing was checked"
    assert "ValidationError" not in document["components"]["schemas"]


@pytest.mark.parametrize("package", APPS)
def test_protected_routes_post_and_bodies_say_what_the_shared_layer_answers(
    package: str, documents: dict[str, dict[str, Any]]
) -> None:
    document = documents[package]
    seen_post = False
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        assert parameter(document, operation, "X-Request-ID")["in"] == "header", where
        if operation.get("security"):
            assert {"401", "403", "503"} <= responses.keys(), where
            retry_after = resolve(document, responses["503"])["headers"]["Retry-After"]
            assert resolve(document, retry_after)["schema"]["type"] == "string"
            if method == "post":
                seen_post = True
                key = parameter(document, operation, "Idempotency-Key")
                assert key["in"] == "header", where
                assert not key["required"], where
                assert "24 h" in key["description"], where
                assert {"409", "422"} <= responses.keys(), where
        else:
            assert "401" not in responses or path.startswith("/auth/"), where
            assert not any(
                p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])
            ), where
        if "requestBody" in operation:
            assert {"400", "413"} <= responses.keys(), where
        if any(p.get("name") == "If-Match" for p in operation.get("parameters", [])):
            assert {"400", "412"} <= responses.keys(), where
        # Any X-Request-ID a header may carry is taken (one not of the documented form is
        # replaced), so its schema refuses none of them.
        request_id = parameter(document, operation, "X-Request-ID")
        assert request_id["schema"] == {"type": "string", "pattern": r"^[\x20-\x7e]*$"}, where
        assert "replaced" in request_id["description"], where
    assert seen_post


@pytest.mark.parametrize(
    "value", ['"3"', 'W/"3"', "*", " 3 ", '"3', "null", "0x1", '"-1"', "W/", "", '"3", "4"']
)
def test_the_documented_if_match_form_is_what_is_read(value: str) -> None:
    """A value of the documented form names a version (or `*`); any other is the 400."""
    if re.fullmatch(IF_MATCH_FORM, value):
        expected_version(value)
    else:
        with pytest.raises(Problem) as refused:
            expected_version(value)
        assert refused.value.status == 400


def test_an_order_is_described_as_it_is_answered(documents: dict[str, dict[str, Any]]) -> None:
    document = documents["erp"]
    create = document["paths"]["/orders"]["post"]
    assert parameter(document, create, "Idempotency-Key")["schema"]["pattern"]
    invalid = create["responses"]["422"]
    # The route's own words stay; the body is the Problem.
    assert "unknown customer" in invalid["description"]
    assert invalid["content"] == {
        PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    assert resolve(document, create["responses"]["401"])["headers"]["WWW-Authenticate"]
    created = create["responses"]["201"]
    assert set(created["headers"]) == {"X-Request-ID", "Idempotent-Replayed"}
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    item = resolve(document, problem["properties"]["errors"]["items"])
    assert item["required"] == ["field", "message"]
    cancel = document["paths"]["/orders/{order_id}/cancel"]["post"]
    # Declared by the route as a Header parameter, and not twice.
    assert parameter(document, cancel, "If-Match")["in"] == "header"


def test_a_quote_is_described_as_it_is_answered(documents: dict[str, dict[str, Any]]) -> None:
    document = documents["crm"]
    create = document["paths"]["/quotes"]["post"]
    assert parameter(document, create, "Idempotency-Key")
    assert create["responses"]["422"]["content"][PROBLEM_JSON]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    assert {"401", "403", "413"} <= create["responses"].keys()
    assert "HTTPValidationError" not in json.dumps(document["paths"])


def test_amounts_are_described_as_read_in_requests_and_as_written_in_answers(
    documents: dict[str, dict[str, Any]],
) -> None:
    document = documents["erp"]
    create = document["paths"]["/products"]["post"]
    body = resolve(document, create["requestBody"]["content"]["application/json"]["schema"])
    answer = resolve(document, create["responses"]["201"]["content"]["application/json"]["schema"])
    asked, given = body["properties"]["unit_price"], answer["properties"]["unit_price"]
    # A request may write 1250, "1250", "1250.5" or "1250.50"; never a fractional number.
    for accepted in (1250, "1250", "1250.5", "1250.50"):
        jsonschema.validate(accepted, asked)
    for refused in (12.5, "12.345", "12,50"):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(refused, asked)
    # An answer always has two decimals, as a string.
    jsonschema.validate("1250.00", given)
    for never in ("1250", 1250):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(never, given)


def test_the_document_is_generated_once(tmp_path: Path) -> None:
    app = app_of("erp", tmp_path)
    first = app.openapi()
    assert app.openapi() is first
    again = describe_conventions(copy.deepcopy(first))
    assert again == first


@pytest.mark.api
async def test_real_error_bodies_match_the_documented_problem(tmp_path: Path) -> None:
    app = app_of("erp", tmp_path)
    document = app.openapi()
    validator = jsonschema.Draft202012Validator(problem_schema(document))
    token = development_signer().issue(subject="admin", roles=["admin"], employee_id=None)
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://erp") as client:
        answers = [
            await client.post("/orders", json={"lines": "none"}, headers=headers),
            await client.post(
                "/orders", json={}, headers={**headers, "Idempotency-Key": "bad key\x7f"}
            ),
            await client.post("/orders", json={}),
            await client.post(
                "/orders",
                content=b"{" + b" " * 2_000_000 + b"}",
                headers={**headers, "Content-Type": "application/json"},
            ),
        ]
    assert [answer.status_code for answer in answers] == [422, 422, 401, 413]
    for answer in answers:
        assert answer.headers["content-type"].startswith(PROBLEM_JSON)
        validator.validate(answer.json())
    assert answers[0].json()["errors"], "a validation error names its fields"
    await app.state.engine.dispose()


@pytest.mark.parametrize("package", APPS)
def test_every_route_with_a_path_parameter_documents_its_404(
    package: str, documents: dict[str, dict[str, Any]]
) -> None:
    document = documents[package]
    checked = 0
    for path, method, operation in operations(document):
        if "{" in path:
            assert "404" in operation["responses"], f"{method.upper()} {path}"
            checked += 1
    assert checked, "no route with a path parameter: nothing was checked"


@pytest.mark.parametrize("package", ["crm", "erp"])
async def test_an_unknown_id_in_the_path_of_a_read_is_the_documented_404(
    package: str, tmp_path: Path
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path}/x.db"
    await migrate(f"{package}-service", database_url)
    main = importlib.import_module(f"{package}.main")
    config = importlib.import_module(f"{package}.config")
    app = main.create_app(config.Settings(database_url=database_url))
    token = development_signer().issue(subject="admin", roles=["admin"], employee_id=None)
    reads = [path for path, item in app.openapi()["paths"].items() if "{" in path and "get" in item]
    assert reads
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        for path in reads:
            url = re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000001", path)
            answer = await client.get(url, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 404, (path, answer.text)
            assert answer.headers["content-type"] == PROBLEM_JSON, path
