"""RFC 9457 problem details: the one error type and the handlers that render it."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from shared_schemas.database import is_database_outage, is_write_conflict
from shared_schemas.domain import (
    Conflict,
    DomainError,
    Duplicate,
    Forbidden,
    IllegalTransition,
    NotFound,
    RuleViolation,
    StaleVersion,
)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://errors.crm-erp.dev/"

log = logging.getLogger(__name__)


class Problem(Exception):
    """An error the client caused or must know about, rendered as application/problem+json.

    `kind` names the problem (`not-found`, `conflict`, ...) and becomes the `type` URI.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        title: str | None = None,
        errors: Sequence[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        phrase = HTTPStatus(status).phrase
        self.status = status
        self.detail = detail
        self.title = title or phrase
        self.kind = kind or phrase.lower().replace(" ", "-").replace("'", "")
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class ProblemResponse(JSONResponse):
    """A problem's body, renderable whatever request text it echoes (a field name, a value).

    JSON text may carry a lone surrogate (`"\\ud800"`), which no UTF-8 encodes; a problem
    naming it is written with every non-ASCII character escaped instead of failing as a 500.
    """

    media_type = PROBLEM_CONTENT_TYPE

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    return ProblemResponse(
        problem.body(instance), status_code=problem.status, headers=problem.headers
    )


def _validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        if error.get("type") == "json_invalid":
            location = []  # its location is a character position, not a field
        errors.append({"field": ".".join(location) or "body", "message": str(error.get("msg"))})
    return errors


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc, request.url.path)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problem = Problem(
        422,
        "The request is not valid.",
        kind="validation-error",
        title="Validation error",
        errors=_validation_errors(exc),
    )
    return problem_response(problem, request.url.path)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # The router names the methods of the first route matching the path only (POST for
        # /customers, though GET is there too); RFC 9110 wants all the path's methods.
        headers["Allow"] = ", ".join(_allowed_methods(request))
    problem = Problem(exc.status_code, str(exc.detail), headers=headers)
    return problem_response(problem, request.url.path)


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> list[str]:
    """The methods some route of the app answers at the request's path."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]
    # Every GET route takes HEAD too (`HeadAsGet`).
    return [*allowed[:1], "HEAD", *allowed[1:]] if "GET" in allowed else allowed


_DOMAIN_STATUS: list[tuple[type[DomainError], int, str]] = [
    (NotFound, 404, "not-found"),
    (Duplicate, 409, "duplicate"),
    (IllegalTransition, 409, "illegal-transition"),
    (Conflict, 409, "conflict"),
    (StaleVersion, 412, "stale-version"),
    (Forbidden, 403, "forbidden"),
    (RuleViolation, 422, "rule-violation"),
]


def problem_from_domain(exc: DomainError) -> Problem:
    status, kind = 422, "rule-violation"
    for error_type, error_status, error_kind in _DOMAIN_STATUS:
        if isinstance(exc, error_type):
            status, kind = error_status, error_kind
            break
    errors = exc.errors if isinstance(exc, RuleViolation) else None
    return Problem(status, exc.detail, kind=kind, errors=errors, extra=exc.extra)


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem_response(problem_from_domain(exc), request.url.path)


# How long a client should wait before trying again when the database is not answering.
OUTAGE_RETRY_AFTER_SECONDS = 5


async def _on_dependency_error(request: Request, exc: Exception) -> JSONResponse:
    """The database unreachable or busy is a 503 the client may retry, never a 500; a
    constraint another request's commit broke is a 409 (the use cases check before they
    write, so only a concurrent writer gets here); a value the database refuses is the
    request's fault, a 422; any other such error is the server's fault and goes on to the
    500 handler."""
    if is_write_conflict(exc):
        log.warning("%s %s: 409, %s", request.method, request.url.path, _cause(exc))
        return problem_response(_CONCURRENT_WRITE, request.url.path)
    if is_refused_value(exc):
        return problem_response(_REFUSED_VALUE, request.url.path)
    if not is_database_outage(exc):
        raise exc
    log.warning("%s %s: 503, %s", request.method, request.url.path, _cause(exc))
    return problem_response(database_outage(), request.url.path)


def _cause(exc: Exception) -> str:
    """What the driver said, first line only: never the statement or its parameters."""
    cause = getattr(exc, "orig", None) or exc
    said = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {said[0]}" if said else type(cause).__name__


def internal_error() -> Problem:
    """The answer to a request that failed in the server: what failed is in its log under
    the request id, never in the answer."""
    return Problem(
        500,
        "The service failed to answer this request; X-Request-ID names it in the logs.",
        kind="internal-error",
    )


def database_outage() -> Problem:
    """The answer to any request while the service's database is not answering."""
    return Problem(
        503,
        "The service's database is not answering; try again shortly.",
        kind="dependency-unavailable",
        headers={"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)},
    )


_CONCURRENT_WRITE = Problem(
    409,
    "Another request changed the same records at the same time; fetch them again and retry.",
    kind="conflict",
)


# SQLSTATEs of a value the database refuses to store or compare, whatever the column: a NUL
# character in text (PostgreSQL's text cannot hold it), a number or a date out of the
# column's range, text too long for its column. Other data exceptions (a division by
# zero, say) are the server's fault and stay 500s.
_REFUSED_VALUE_SQLSTATES = frozenset(
    {"22001", "22003", "22007", "22008", "22009", "22021", "22P02", "22P05"}
)


def is_refused_value(exc: BaseException) -> bool:
    """True when the database refused a value the request carried, or its driver could not
    encode one (an integer past 64 bits, a time zone that moves a date past year 1 or 9999
    in UTC)."""
    if not isinstance(exc, StatementError):
        return False
    if getattr(exc.orig, "sqlstate", None) in _REFUSED_VALUE_SQLSTATES:
        return True
    cause: BaseException | None = exc.orig
    while cause is not None:
        if isinstance(cause, OverflowError):
            return True
        cause = cause.__cause__
    return False


_REFUSED_VALUE = Problem(
    422,
    "A value of the request cannot be stored: text with a NUL character, or a number or "
    "date out of range.",
    kind="validation-error",
    title="Validation error",
    errors=[{"field": "request", "message": "a value is out of the range the service stores"}],
)


async def _on_statement_error(request: Request, exc: Exception) -> JSONResponse:
    """A parameter the driver could not encode: the request's fault when out of range."""
    if is_refused_value(exc):
        return problem_response(_REFUSED_VALUE, request.url.path)
    raise exc


async def _on_stale_data(request: Request, exc: Exception) -> JSONResponse:
    """A versioned row another transaction updated between this one's read and write."""
    return problem_response(_CONCURRENT_WRITE, request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    """Render every client error of `app` as problem+json, validation errors as 422."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(StaleDataError, _on_stale_data)
    for dependency_error in (DBAPIError, OSError, PoolTimeout):
        app.add_exception_handler(dependency_error, _on_dependency_error)
    app.add_exception_handler(StatementError, _on_statement_error)
