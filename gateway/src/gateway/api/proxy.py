"""Forwarding one request to its service and its answer back, as plain ASGI: the hot path
of the gateway, so no framework in between (docs/decisions.md, "Gateway").

Bodies stream both ways; a small body travels as one piece. Hop-by-hop headers (RFC 9110
§7.6.1) stop here in both directions; Authorization, Idempotency-Key, If-Match and the
rest pass through. The service receives the request id and a child `traceparent`, and
`X-Forwarded-For/-Proto/-Host`; a `Location` it answers, and the `instance` of a problem
it answers, are rewritten to the gateway's path.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field

import aiohttp
from starlette.types import Message, Receive, Scope, Send

from gateway.adapters.upstream import (
    IDEMPOTENT_METHODS,
    Body,
    Upstream,
    UpstreamFailure,
)
from gateway.api.request_body import BodyTooLarge, ClientGone, StreamedBody, whole_body
from gateway.domain.breaker import CircuitOpen
from gateway.domain.identity import bearer_token
from gateway.domain.trace_context import child_traceparent, continued
from shared_schemas.http.body_limit import BodyOverLimit
from shared_schemas.http.problems import Problem, problem_response
from shared_schemas.http.wire_numbers import whole_number

log = logging.getLogger(__name__)

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Set by the gateway itself, whatever the client sent.
_REPLACED = frozenset(
    {
        b"host",
        b"x-request-id",
        b"traceparent",
        b"tracestate",
        b"expect",
        b"x-forwarded-proto",
        b"x-forwarded-host",
    }
)
# Answer headers uvicorn writes itself, and the request id the gateway sets.
_OWN_RESPONSE_HEADERS = frozenset({b"date", b"server", b"x-request-id"})
# A body up to this size is read whole and sent in one piece; larger ones stream.
WHOLE_BODY_BYTES = 65_536
REQUEST_ID = b"x-request-id"


def dropped_by_hop(name: bytes) -> bool:
    return name in HOP_BY_HOP or name.startswith(b"proxy-")


def connection_tokens(value: bytes) -> frozenset[bytes]:
    """The header names one `Connection` header lists (RFC 9110 §7.6.1), lowercased."""
    return frozenset(token.strip().lower() for token in value.split(b","))


@dataclass
class Incoming:
    """What the gateway needs to know of a request's headers, read in one pass."""

    request_id: str
    authorization: str | None = None
    # More than one Authorization header: the gateway cannot know which the service reads.
    authorizations: int = 0
    content_length: int | None = None
    chunked: bool = False
    idempotency_key: bool = False
    traceparent: str | None = None
    tracestate: str | None = None
    host: str | None = None
    forwarded_for: str | None = None
    connection_tokens: frozenset[bytes] = frozenset()
    # The headers that pass through to the service as they came.
    passed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.content_length)


# As the shell's request-id middleware: ids travel into logs and event headers.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/=+-]{1,128}$")


def request_id_or_new(candidate: str | None) -> str:
    if candidate is not None and _VALID_REQUEST_ID.match(candidate):
        return candidate
    return str(uuid.uuid4())


def read_headers(scope: Scope) -> Incoming:
    incoming = Incoming(request_id="")
    passed = incoming.passed
    for name, value in scope["headers"]:
        if dropped_by_hop(name):
            if name == b"connection":  # a list, which may come in several headers
                incoming.connection_tokens |= connection_tokens(value)
            elif name == b"transfer-encoding":
                incoming.chunked = True
            continue
        if name in _REPLACED:
            if name == REQUEST_ID:
                candidate = value.decode("latin-1")
                if _VALID_REQUEST_ID.match(candidate):
                    incoming.request_id = candidate
            elif name == b"traceparent":
                incoming.traceparent = value.decode("latin-1")
            elif name == b"tracestate":  # one list, which may come in several headers
                text = value.decode("latin-1")
                prior = incoming.tracestate
                incoming.tracestate = f"{prior},{text}" if prior else text
            elif name == b"host":
                incoming.host = value.decode("latin-1")
            continue
        text = value.decode("latin-1")
        if name == b"authorization":
            incoming.authorization = text
            incoming.authorizations += 1
            # As judged here: every reader behind the gateway then finds the same token.
            token = bearer_token(text)
            if token is not None:
                text = f"Bearer {token}"
        elif name == b"content-length":
            # Any length past what is read whole is streamed: its exact size does not matter.
            length = whole_number(text, WHOLE_BODY_BYTES + 1)
            incoming.content_length = -1 if length is None else length
        elif name == b"idempotency-key":
            incoming.idempotency_key = True
        elif name == b"x-forwarded-for":
            incoming.forwarded_for = text
            continue
        passed.append((name.decode("latin-1"), text))
    if incoming.connection_tokens:
        tokens = {token.decode("latin-1") for token in incoming.connection_tokens}
        incoming.passed = [(n, v) for n, v in passed if n not in tokens]
        # A key that stops here (`Connection: Idempotency-Key`) protects nothing upstream.
        incoming.idempotency_key = incoming.idempotency_key and "idempotency-key" not in tokens
    if not incoming.request_id:
        incoming.request_id = str(uuid.uuid4())
    return incoming


async def forward(
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    upstream: Upstream,
    target: str,
    incoming: Incoming,
    max_body_bytes: int,
) -> int:
    """Send the request to `upstream` at `target` (path and query) and its answer back;
    the status answered (499 when the client went away first, 502 when the service broke
    off a streamed answer, which is then left unfinished: the client's connection is cut)."""
    method: str = scope["method"]
    body: Body = None
    if incoming.has_body:
        length = incoming.content_length
        if length is not None and length <= WHOLE_BODY_BYTES:
            # Small and announced: read whole, sent in one piece, and replayable.
            try:
                body = await whole_body(receive, max_body_bytes)
            except BodyTooLarge:
                return await too_large(scope, receive, send, incoming, max_body_bytes)
            except ClientGone:
                return 499
        else:
            body = StreamedBody(receive, max_body_bytes)
    headers = _outgoing_headers(scope, incoming)
    # Idempotent methods (RFC 9110 §9.2.2), and a POST with an Idempotency-Key, which the
    # services honour on POST alone: a PATCH carrying one is still sent once.
    replayable = method in IDEMPOTENT_METHODS or (method == "POST" and incoming.idempotency_key)
    try:
        response = await upstream.send(method, target, headers, body, replayable=replayable)
    except CircuitOpen as exc:
        problem = Problem(
            503,
            f"The {upstream.name} service is unavailable; try again later.",
            kind="upstream-unavailable",
            headers={"Retry-After": exc.retry_after_header},
        )
        return await answer_problem(scope, receive, send, problem, incoming.request_id)
    except UpstreamFailure as exc:
        kinds = {503: "upstream-unavailable", 504: "upstream-timeout"}
        problem = Problem(
            exc.status,
            exc.detail,
            kind=kinds.get(exc.status, "bad-gateway"),
            headers={"Retry-After": exc.retry_after} if exc.retry_after else None,
        )
        return await answer_problem(scope, receive, send, problem, incoming.request_id)
    except BodyTooLarge:
        return await too_large(scope, receive, send, incoming, max_body_bytes)
    except ClientGone:
        return 499
    # Once the client's body is in, `receive` has nothing to say but that the client left.
    listen = None if isinstance(body, StreamedBody) and not body.complete else receive
    try:
        return await _relay_answer(scope, listen, send, response, upstream, incoming.request_id)
    except ClientGone:
        return 499
    finally:
        upstream.release(response)


def _outgoing_headers(scope: Scope, incoming: Incoming) -> list[tuple[str, str]]:
    headers = incoming.passed
    client = scope.get("client")
    address = client[0] if client else None
    if address:
        prior = incoming.forwarded_for
        headers.append(("x-forwarded-for", f"{prior}, {address}" if prior else address))
    elif incoming.forwarded_for:
        headers.append(("x-forwarded-for", incoming.forwarded_for))
    headers.append(("x-forwarded-proto", scope.get("scheme", "http")))
    if incoming.host:
        headers.append(("x-forwarded-host", incoming.host))
    headers.append(("x-request-id", incoming.request_id))
    headers.append(("traceparent", child_traceparent(incoming.traceparent)))
    # W3C Trace Context: a caller's tracestate belongs to its trace; when that trace is not
    # continued (no traceparent, or one that is not valid), it is dropped.
    if incoming.tracestate is not None and continued(incoming.traceparent) is not None:
        headers.append(("tracestate", incoming.tracestate))
    return headers


async def _until_gone(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _relay_answer(
    scope: Scope,
    receive: Receive | None,
    send: Send,
    response: aiohttp.ClientResponse,
    upstream: Upstream,
    rid: str,
) -> int:
    """The service's answer to the client. A streamed one stops when the client left (as
    `receive` says): the server drops what a gone client is sent, and reading on would
    hold the service's connection for as long as the service sends. One the service
    breaks off is left unfinished (502), so that the server cuts the client's connection:
    ending it would hand the client a part of the body as if it were all of it."""
    headers = _answer_headers(response, upstream, scope.get("root_path", ""))
    headers.append((REQUEST_ID, rid.encode()))
    status = response.status
    length = response.content_length
    whole = (
        scope["method"] == "HEAD"
        or status in (204, 304)
        or (length is not None and length <= WHOLE_BODY_BYTES)
    )
    if whole:
        try:
            content = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("%s answered %s but its body failed: %r", upstream.name, status, exc)
            problem = Problem(502, f"The {upstream.name} service's answer broke off.")
            return await answer_problem(scope, _no_receive, send, problem, rid)
        if status >= 400 and _is_problem(headers):
            content, headers = _problem_at_gateway(content, headers, scope.get("path", ""))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})
        return status
    await send({"type": "http.response.start", "status": status, "headers": headers})
    gone = asyncio.ensure_future(_until_gone(receive)) if receive is not None else None
    try:
        async for chunk in response.content.iter_any():
            if gone is not None and gone.done():
                raise ClientGone("the client went away while the answer streamed")
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except (aiohttp.ClientError, TimeoutError) as exc:
        # Too late for an error answer: the answer is left unfinished, so the server cuts
        # the connection and the client sees a broken body, never a whole one.
        log.warning("%s broke off a streamed answer (request %s): %r", upstream.name, rid, exc)
        _ANSWER_CUT.set(True)
        return 502
    finally:
        if gone is not None:
            gone.cancel()
    await send({"type": "http.response.body", "body": b""})
    return status


# Set in the request's task when the gateway leaves an answer unfinished on purpose.
_ANSWER_CUT: ContextVar[bool] = ContextVar("gateway_answer_cut", default=False)
# What uvicorn logs, as an error, when an app returns with its answer unfinished.
_UNFINISHED = "ASGI callable returned without completing response."


class _DeliberateCut(logging.Filter):
    """The server's error for an unfinished answer, dropped when the gateway cut that
    answer on purpose (a service broke it off) and has logged its own warning for it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.msg == _UNFINISHED and _ANSWER_CUT.get())


_DELIBERATE_CUT = _DeliberateCut()


def quiet_deliberate_cuts() -> None:
    """Let a cut answer log the proxy's one warning, not also the server's error."""
    logging.getLogger("uvicorn.error").addFilter(_DELIBERATE_CUT)  # once, however often


def _answer_headers(
    response: aiohttp.ClientResponse, upstream: Upstream, root_path: str
) -> list[tuple[bytes, bytes]]:
    named: frozenset[bytes] = frozenset()
    headers = []
    for name, value in response.raw_headers:
        lower = name.lower()
        if dropped_by_hop(lower):
            if lower == b"connection":
                named |= connection_tokens(value)
            continue
        if lower in _OWN_RESPONSE_HEADERS:
            continue
        if lower == b"location":
            value = _gateway_location(value, upstream, root_path)
        headers.append((lower, value))
    if named:
        headers = [(name, value) for name, value in headers if name not in named]
    return headers


def _gateway_location(value: bytes, upstream: Upstream, root_path: str) -> bytes:
    """`/quotes/1` from the CRM is `/api/crm/quotes/1` at the gateway."""
    location = value.decode("latin-1")
    if location.startswith(upstream.base_url + "/"):
        location = location[len(upstream.base_url) :]
    if location.startswith("/") and not location.startswith("//"):
        return f"{root_path}/api/{upstream.name}{location}".encode("latin-1")
    return value


def _is_problem(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(
        name == b"content-type" and value.split(b";")[0].strip() == b"application/problem+json"
        for name, value in headers
    )


def _problem_at_gateway(
    content: bytes, headers: list[tuple[bytes, bytes]], path: str
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """A service's problem names the service's path as its `instance` (`/quotes/1`); the
    client asked the gateway (`/api/crm/quotes/1`), as a problem the gateway writes says.
    A body that is no JSON object with an instance passes as it came."""
    try:
        problem = json.loads(content)
    except ValueError:
        return content, headers
    if not isinstance(problem, dict) or not isinstance(problem.get("instance"), str):
        return content, headers
    problem["instance"] = path
    rewritten = json.dumps(problem, ensure_ascii=False, separators=(",", ":")).encode()
    length = str(len(rewritten)).encode()
    kept = [(name, length if name == b"content-length" else value) for name, value in headers]
    return rewritten, kept


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


async def answer_problem(
    scope: Scope, receive: Receive, send: Send, problem: Problem, request_id: str
) -> int:
    problem.headers["X-Request-ID"] = request_id
    await problem_response(problem, scope.get("path"))(scope, receive, send)
    return problem.status


async def too_large(
    scope: Scope, receive: Receive, send: Send, incoming: Incoming, limit: int
) -> int:
    return await answer_problem(scope, receive, send, BodyOverLimit(limit), incoming.request_id)
