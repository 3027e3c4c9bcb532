"""The request body size limit of every app: 413 problem+json for a body over the limit,
whether its Content-Length announces it or it only grows past the limit while streaming
(chunked, or a Content-Length that lies). Nothing past the limit is read into memory."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared_schemas.http.problems import Problem, problem_response
from shared_schemas.http.wire_numbers import whole_number

DEFAULT_MAX_BODY_BYTES = 1_048_576


class BodyOverLimit(Problem):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"The request body is larger than {limit} bytes.",
            kind="payload-too-large",
            # The rest of the body is never read: the connection cannot carry another request.
            headers={"Connection": "close"},
        )


def announced_fits(content_length: bytes, limit: int) -> bool:
    """Whether a Content-Length header's value is a length within `limit`."""
    length = whole_number(content_length.decode("latin-1"), limit + 1)
    return length is not None and length <= limit


async def read_body(receive: Receive) -> bytes:
    """The whole request body (within the limit when `receive` is `limited`)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def limited(receive: Receive, limit: int) -> Receive:
    """`receive` that raises `BodyOverLimit` once the body grows past `limit` bytes."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyOverLimit(limit)
        return message

    return counted


class BodyLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413 before the app (or the idempotency
    middleware, which reads bodies whole) holds them."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and not announced_fits(value, self.max_bytes):
                await problem_response(BodyOverLimit(self.max_bytes), scope["path"])(
                    scope, receive, send
                )
                return
        answered = False

        async def watched(message: Message) -> None:
            nonlocal answered
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited(receive, self.max_bytes), watched)
        except BodyOverLimit as problem:
            if answered:
                raise
            await problem_response(problem, scope["path"])(scope, receive, send)
