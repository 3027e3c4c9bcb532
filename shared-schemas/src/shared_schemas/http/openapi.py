"""What every app's OpenAPI document says about the HTTP layer all apps share (design §4):
problem+json errors, `Idempotency-Key`, `X-Request-ID`, and the answers any route may give
(401, 403, 413, 503), written into FastAPI's generated document once per generation."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from shared_schemas.http.idempotency import REPLAYED_HEADER
from shared_schemas.http.middleware import VALID_REQUEST_ID
from shared_schemas.http.problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE

PROBLEM = "Problem"
FIELD_ERROR = "ProblemFieldError"
SCHEMA_REF = "#/components/schemas/"
PROBLEM_REF = SCHEMA_REF + PROBLEM
HEADER_REF = "#/components/headers/"
RESPONSE_REF = "#/components/responses/"
IDEMPOTENCY_KEY = "Idempotency-Key"
REQUEST_ID = "X-Request-ID"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# FastAPI's own 422 body, which no app of ours sends, and its items.
HTTP_VALIDATION_ERROR = "HTTPValidationError"
VALIDATION_ERROR = "ValidationError"
_FASTAPI_422 = "Validation Error"
_INVALID = "The request is not valid; `errors` names each field and what is wrong with it."

# Extension members some problems carry besides the RFC 9457 ones (`DomainError.extra`).
_EXTENSIONS: dict[str, dict[str, Any]] = {
    "existing_id": {
        "type": "string",
        "description": "409 duplicate: the id of the record that exists already.",
    },
    "field": {"type": "string", "description": "409 duplicate: the field that matched."},
    "current_status": {
        "type": "string",
        "description": "409 illegal transition: the record's status now.",
    },
    "allowed": {
        "type": "array",
        "items": {"type": "string"},
        "description": "409 illegal transition: the actions allowed from `current_status`.",
    },
    "valid_until": {
        "type": "string",
        "format": "date",
        "description": "409: the last day an expired quote was valid.",
    },
    "current_version": {
        "type": "integer",
        "description": "412: the record's version now (its `ETag`).",
    },
    "source_type": {
        "type": "string",
        "description": "409: the kind of document that posted a journal entry.",
    },
    "source_id": {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "description": "409: the document that posted a journal entry.",
    },
    "sku": {"type": "string", "description": "409 insufficient stock: the product."},
    "warehouse_id": {"type": "string", "description": "409 insufficient stock: the warehouse."},
    **{
        name: {"type": "integer", "description": f"409 insufficient stock: units {meaning}."}
        for name, meaning in (
            ("on_hand", "on hand"),
            ("reserved", "reserved"),
            ("available", "available (on hand less reserved)"),
            ("needed", "the movement needs"),
            ("shortfall", "missing"),
        )
    },
    "error": {
        "type": "string",
        "description": "An OAuth 2.0 error code (`invalid_grant`) where the token endpoints "
        "need one.",
    },
}

SCHEMAS: dict[str, dict[str, Any]] = {
    FIELD_ERROR: {
        "type": "object",
        "title": FIELD_ERROR,
        "description": "One reason the request was refused, and the input it is about.",
        "required": ["field", "message"],
        "properties": {
            "field": {
                "type": "string",
                "description": "Dotted path of the input (`lines.0.sku`, `query.limit`, a "
                "header's name), or `body` / `request` for the whole.",
            },
            "message": {"type": "string"},
        },
    },
    PROBLEM: {
        "type": "object",
        "title": PROBLEM,
        "description": "RFC 9457 problem details, the body of every error "
        f"(`{PROBLEM_CONTENT_TYPE}`). `type` names the problem; some problems add the "
        "members listed besides the standard ones.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {
                "type": "string",
                "format": "uri",
                "description": f"`{PROBLEM_TYPE_BASE}<kind>`, e.g. `validation-error`, "
                "`not-found`, `illegal-transition`, `stale-version`.",
            },
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "instance": {"type": "string", "description": "The path of the request."},
            "errors": {
                "type": "array",
                "items": {"$ref": SCHEMA_REF + FIELD_ERROR},
                "description": "Per input: every validation error (422), the fields a role "
                "may not set (403), the lines that cannot be shipped (409).",
            },
            **_EXTENSIONS,
        },
        "examples": [
            {
                "type": f"{PROBLEM_TYPE_BASE}validation-error",
                "title": "Validation error",
                "status": 422,
                "detail": "The request is not valid.",
                "instance": "/orders",
                "errors": [{"field": "lines.0.quantity", "message": "Input should be > 0"}],
            }
        ],
    },
}

HEADERS: dict[str, dict[str, Any]] = {
    "RequestId": {
        "description": "The request's id: the one sent, or a new one; it is the correlation "
        "id of the events the request causes.",
        "schema": {"type": "string"},
    },
    "RetryAfter": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "string", "pattern": r"^\d+$"},
    },
    "WWWAuthenticate": {
        "description": "The bearer scheme the token must follow: `Bearer`, with "
        '`error="invalid_token"` when the token sent was refused.',
        "schema": {"type": "string"},
    },
    "IdempotentReplayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same `Idempotency-Key`.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}


def header(name: str) -> dict[str, str]:
    return {"$ref": HEADER_REF + name}


def problem_response(description: str, **headers: str) -> dict[str, Any]:
    """A response object whose body is a Problem; `headers` maps header names to the
    names of `HEADERS` (or of the document's own header components)."""
    return {
        "description": description,
        "headers": {
            REQUEST_ID: header("RequestId"),
            **{name: header(component) for name, component in headers.items()},
        },
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": PROBLEM_REF}}},
    }


RESPONSES: dict[str, dict[str, Any]] = {
    "InvalidRequest": problem_response(
        f"{_INVALID} Also the answer when an `{IDEMPOTENCY_KEY}` is malformed or was used "
        "with another request."
    ),
    "Unauthorized": problem_response(
        "No access token, or one that is invalid, expired or revoked.",
        **{"WWW-Authenticate": "WWWAuthenticate"},
    ),
    "Forbidden": problem_response("Your role may not do this."),
    "NotFound": problem_response(
        "No record with the id in the path, or none your role may see (design §7: what a "
        "role may not see is not found)."
    ),
    "StaleVersion": problem_response(
        "`If-Match` names an older version than the record's (`current_version`)."
    ),
    "BadRequest": problem_response(
        "The request cannot be read: a body that is not what its content type says (JSON "
        "that is not UTF-8, a broken form), or an `If-Match` that is no ETag of this API."
    ),
    "IdempotencyKeyInUse": problem_response(
        "A request with this `Idempotency-Key` is still running (try again after "
        "`Retry-After`), or took effect but its answer is not kept (read the resource, "
        "`Location` when known).",
        **{"Retry-After": "RetryAfter"},
    ),
    "PayloadTooLarge": problem_response("The request body is larger than the service accepts."),
    "ServiceUnavailable": problem_response(
        "The service's database, or the keys tokens are checked with, are not answering; "
        "try again after `Retry-After`.",
        **{"Retry-After": "RetryAfter"},
    ),
}


HEADER_VALUE = r"^[\x20-\x7e]*$"

# Inline in each operation (not references): readers of the document look for a name.
PARAMETERS: dict[str, dict[str, Any]] = {
    REQUEST_ID: {
        "name": REQUEST_ID,
        "in": "header",
        "required": False,
        "description": f"Echoed in `{REQUEST_ID}` when it matches "
        f"`{VALID_REQUEST_ID.pattern}`; any other value, or none, is replaced by a new id.",
        # Any value HTTP lets a header carry (visible ASCII and spaces): all are taken.
        "schema": {"type": "string", "pattern": HEADER_VALUE},
    },
    IDEMPOTENCY_KEY: {
        "name": IDEMPOTENCY_KEY,
        "in": "header",
        "required": False,
        "description": "The first answer is kept 24 h per user and replayed to a retry "
        f"(`{REPLAYED_HEADER}: true`); the key with another request: 422; while the first "
        "still runs: 409.",
        "schema": {"type": "string", "pattern": r"^[\x21-\x7e]{1,255}$"},
    },
}


# FastAPI's name for a 422 body, kept as another name for Problem.
SHARED_SCHEMAS = {
    HTTP_VALIDATION_ERROR: {
        "$ref": PROBLEM_REF,
        "description": "A 422 answer's body, a Problem like every error's.",
    }
}

# The components every document gets, by kind.
COMPONENTS: dict[str, dict[str, dict[str, Any]]] = {
    "schemas": SCHEMAS,
    "headers": HEADERS,
    "responses": RESPONSES,
}


def _add_parameter(operation: dict[str, Any], name: str) -> None:
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    if not any(str(p.get("name", "")).lower() == name.lower() for p in parameters):
        parameters.append(copy.deepcopy(PARAMETERS[name]))


def describe_operation(method: str, operation: dict[str, Any]) -> None:
    """One operation: the headers it reads and the answers the shared layer may give."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    secured = bool(operation.get("security"))
    idempotent_post = secured and method == "post"
    reads = {str(p.get("name", "")).lower() for p in operation.get("parameters", [])}
    _add_parameter(operation, REQUEST_ID)
    added: dict[str, str] = {}
    if secured:
        added |= {"401": "Unauthorized", "403": "Forbidden", "503": "ServiceUnavailable"}
    if idempotent_post:
        # The key is honoured for a verified caller only: it is scoped to the user.
        _add_parameter(operation, IDEMPOTENCY_KEY)
        added |= {"409": "IdempotencyKeyInUse", "422": "InvalidRequest"}
    if "if-match" in reads:
        added |= {"400": "BadRequest", "412": "StaleVersion"}
    if "requestBody" in operation:
        added |= {"400": "BadRequest", "413": "PayloadTooLarge"}
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        added["404"] = "NotFound"
    for status, component in added.items():
        responses.setdefault(status, {"$ref": RESPONSE_REF + component})
    for status, response in responses.items():
        if "$ref" in response:
            continue
        headers: dict[str, Any] = response.setdefault("headers", {})
        headers.setdefault(REQUEST_ID, header("RequestId"))
        if status.startswith(("4", "5")):
            # Whatever FastAPI or the route said, the body is a Problem.
            response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": PROBLEM_REF}}}
            if status == "422" and response.get("description") == _FASTAPI_422:
                response["description"] = _INVALID
        elif status.startswith("2") and idempotent_post:
            headers.setdefault(REPLAYED_HEADER, header("IdempotentReplayed"))
    operation["responses"] = dict(sorted(responses.items()))


def _replace_fastapi_validation(schemas: dict[str, Any], document: dict[str, Any]) -> None:
    """FastAPI's 422 body is no answer of ours: its schema becomes another name for Problem,
    for a route added to the document after this ran (the gateway's own `/healthz`), and
    the schema of its items goes once nothing refers to it."""
    if HTTP_VALIDATION_ERROR in schemas:
        schemas[HTTP_VALIDATION_ERROR] = copy.deepcopy(SHARED_SCHEMAS[HTTP_VALIDATION_ERROR])
    if VALIDATION_ERROR in schemas and not refers_to(document, SCHEMA_REF + VALIDATION_ERROR):
        del schemas[VALIDATION_ERROR]


def refers_to(document: dict[str, Any], ref: str) -> bool:
    return f'"{ref}"' in json.dumps(document)


def drop_unused_validation_schema(document: dict[str, Any]) -> None:
    """For a document nothing is added to any more: FastAPI's 422 schema, if unused."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    if HTTP_VALIDATION_ERROR in schemas and not refers_to(
        document, SCHEMA_REF + HTTP_VALIDATION_ERROR
    ):
        del schemas[HTTP_VALIDATION_ERROR]


def describe_conventions(document: dict[str, Any]) -> dict[str, Any]:
    """Write the shared layer's conventions into `document` (FastAPI's generated OpenAPI
    document) and return it; doing it again changes nothing."""
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in _METHODS and isinstance(operation, dict):
                describe_operation(method, operation)
    components: dict[str, Any] = document.setdefault("components", {})
    for kind, entries in COMPONENTS.items():
        section: dict[str, Any] = components.setdefault(kind, {})
        for name, entry in entries.items():
            section.setdefault(name, copy.deepcopy(entry))
    _replace_fastapi_validation(components["schemas"], document)
    for kind in COMPONENTS:
        components[kind] = dict(sorted(components[kind].items()))
    return document


def shared_component(kind: str, name: str) -> bool:
    """Whether every app's document has this component, the same in each: a merged document
    keeps one of it instead of one per app."""
    return name in COMPONENTS.get(kind, {}) or (kind == "schemas" and name in SHARED_SCHEMAS)


def install_conventions(app: FastAPI) -> None:
    """Have `app.openapi()` return FastAPI's document with the conventions written in.
    FastAPI generates the document once (again only when the routes change), and the
    conventions are written into each generation once."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    described: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = generate()
        if not described or described[0] is not document:
            described[:] = [describe_conventions(document)]
        return document

    app.openapi = openapi  # type: ignore[method-assign]
