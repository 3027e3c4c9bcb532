"""Odd input never makes a 5xx: Schemathesis generates requests from each service's OpenAPI
document (its examples, then a few random cases per operation, now and then with a value
PostgreSQL or the driver refuses) and sends them to the running APIs with an
administrator's token, so every route is reached; every 4xx must be problem+json
(design.md §4).

A deeper run, for after a change to the request models or the shared HTTP layer:
`FUZZ_COVERAGE=1 FUZZ_EXAMPLES=50 pytest tests/security` adds the coverage phase (the
boundary and malformed values of every parameter) and more random cases."""

from __future__ import annotations

import importlib
import os
import tempfile
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error

from tests.security.conftest import RunningApis

pytestmark = pytest.mark.security

# Random cases per operation, derandomized so a finding reproduces; with the examples of
# the document that is about 7 requests per operation, ~30 s for the three APIs. The
# coverage phase sends ~60 per operation, ten times the cost, so it runs on demand.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
COVERAGE = os.environ.get("FUZZ_COVERAGE") == "1"

# What PostgreSQL, the driver or Python's decimals refuse that a schema lets through; the
# generator picks a field's value from here now and then.
ODD_VALUES: list[str | int | float] = [
    "\x00",
    "a\x00b",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01",
    "9999-12-31",
    "1e30",
    "99999999999999999999999999999999.99",
    2**31,
    2**63,
    -(2**63) - 1,
    1e308,
]

# Operations not fuzzed, and why.
EXCLUDED = {
    # A live event stream: it answers 200 and stays open until the token expires.
    "gateway": ["/api/events/stream"],
}

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_details_for_client_errors(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    """Every 4xx is RFC 9457 problem+json with its status in the body."""
    if not 400 <= response.status_code < 500:
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith(PROBLEM_CONTENT_TYPE), (
        f"{response.status_code} answered as {content_type!r}, not {PROBLEM_CONTENT_TYPE}"
    )
    body = response.json()
    assert body.get("status") == response.status_code, f"problem status {body.get('status')}"


def document_of(package: str) -> dict[str, Any]:
    """The OpenAPI document the service serves (its own routes for the gateway), built from
    the app without starting it."""
    main = importlib.import_module(f"{package}.main")
    config = importlib.import_module(f"{package}.config")
    with tempfile.TemporaryDirectory() as folder:
        app = main.create_app(config.Settings(database_url=f"sqlite+aiosqlite:///{folder}/x.db"))
        document: dict[str, Any] = app.openapi()
    return document


def fuzzing_schema(package: str) -> Any:
    config = schemathesis.Config.from_dict(
        {
            "dictionaries": {"odd": {"values": ODD_VALUES}},
            "generation": {
                "max-examples": EXAMPLES,
                "deterministic": True,
                "dictionaries": {
                    kind: {"dictionary": "odd", "probability": 0.3}
                    for kind in ("string", "integer", "number")
                },
            },
            "suppress-health-check": ["all"],
            "phases": {"coverage": {"enabled": COVERAGE}, "stateful": {"enabled": False}},
        }
    )
    schema = schemathesis.openapi.from_dict(document_of(package), config=config)
    for path in EXCLUDED.get(package, []):
        schema = schema.exclude(path=path)
    return schema


CHECKS = [not_a_server_error, problem_details_for_client_errors]


def call(case: schemathesis.Case, service: str, apis: RunningApis, headers: dict[str, str]) -> None:
    """Send the case; a failure carries what the service logged meanwhile (a 5xx's
    traceback)."""
    log = apis.logs[service]
    logged_before = log.stat().st_size
    try:
        case.call_and_validate(base_url=apis.urls[service], headers=headers, checks=CHECKS)
    except Exception as failure:
        with log.open("rb") as lines:
            lines.seek(logged_before)
            tail = lines.read().decode(errors="replace").splitlines()[-40:]
        if tail:
            failure.add_note(f"{service} logged:\n" + "\n".join(tail))
        raise


@fuzzing_schema("crm").parametrize()
def test_crm(
    case: schemathesis.Case, running_apis: RunningApis, admin_headers: dict[str, str]
) -> None:
    call(case, "crm", running_apis, admin_headers)


@fuzzing_schema("erp").parametrize()
def test_erp(
    case: schemathesis.Case, running_apis: RunningApis, admin_headers: dict[str, str]
) -> None:
    call(case, "erp", running_apis, admin_headers)


@fuzzing_schema("gateway").parametrize()
def test_gateway(
    case: schemathesis.Case, running_apis: RunningApis, admin_headers: dict[str, str]
) -> None:
    call(case, "gateway", running_apis, admin_headers)
