"""A proxied request's body as the client sends it: read whole when small and announced,
streamed otherwise, counted as it comes either way, so that more than the size limit
stops it whatever Content-Length said (api/proxy.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.types import Receive

from gateway.adapters.upstream import RequestBodyAborted


class BodyTooLarge(RequestBodyAborted):
    """The client's body went past the size limit while streaming (413)."""


class ClientGone(RequestBodyAborted):
    """The client disconnected before its body was complete."""


async def whole_body(receive: Receive, limit: int) -> bytes:
    chunks = [chunk async for chunk in body_chunks(receive, limit)]
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def body_chunks(receive: Receive, limit: int) -> AsyncIterator[bytes]:
    """The request body as it arrives, counted: more than `limit` bytes in all stops it,
    whatever Content-Length said."""
    seen = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone("the client went away while sending its body")
        chunk: bytes = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLarge(f"request body over {limit} bytes")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


class StreamedBody:
    """A request body streamed to the service, which knows when it is complete."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self.receive = receive
        self.limit = limit
        self.complete = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in body_chunks(self.receive, self.limit):
            yield chunk
        self.complete = True
