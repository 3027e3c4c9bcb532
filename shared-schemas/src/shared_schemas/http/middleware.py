"""Request ids and request latency, as plain ASGI middleware (cheaper than BaseHTTPMiddleware)."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared_schemas.http.problems import internal_error, problem_response
from shared_schemas.messaging.context import event_context

REQUEST_ID_HEADER = "x-request-id"
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/=+-]{1,128}$")
"""The ids taken from a client (they travel into logs and event headers)."""

# Methods counted under their own name; any other is counted as "other", so that made-up
# methods (anyone may send one, token or not) cannot grow the label set.
COUNTED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    return method if method in COUNTED_METHODS else "other"


REQUEST_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class RequestContextMiddleware:
    """Echo or assign `X-Request-ID`, make it the correlation id of the events recorded
    while handling the request, and measure the request's latency per route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        answered = False
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = message["status"], True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            with event_context(correlation_id=request_id):
                await self.app(scope, receive, send_with_id)
        except Exception:
            # A failure no handler turned into an answer: a 500 problem+json with the
            # request id, then on to the server, which logs it.
            if not answered:
                await problem_response(internal_error(), scope["path"])(
                    scope, receive, send_with_id
                )
            raise
        finally:
            REQUEST_LATENCY.labels(
                method_label(scope["method"]), _route_template(scope), str(status)
            ).observe(time.perf_counter() - started)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER.encode():
            candidate: str = value.decode("latin-1")
            # Ids travel into logs and event headers: accept only plain tokens.
            return candidate if VALID_REQUEST_ID.match(candidate) else None
    return None


def _route_template(scope: Scope) -> str:
    # The template, never the raw path: ids in paths would explode the label set.
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class HeadAsGet:
    """HEAD answered as GET would be, without the body (RFC 9110 §9.3.2): every GET route
    takes HEAD too, as uptime monitors and link checkers send it, without listing each
    twice in the API documents. A streamed answer (the live event stream) ends once its
    headers are out: the app is told the client has gone, as it would be on a
    disconnect."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        answered = False

        async def headers_only(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                # The server frames the answer by the method in the scope: HEAD again, or
                # it would end a streamed answer with a chunk the client never expects.
                scope["method"] = "HEAD"
                await send(message)
            elif message["type"] == "http.response.body" and not answered:
                answered = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def gone_once_answered() -> Message:
            if answered:
                return {"type": "http.disconnect"}
            return await receive()

        # The same scope (the router notes the route in it for the request metrics), as
        # GET until the answer starts.
        scope["method"] = "GET"
        try:
            await self.app(scope, gone_once_answered, headers_only)
        finally:
            scope["method"] = "HEAD"
