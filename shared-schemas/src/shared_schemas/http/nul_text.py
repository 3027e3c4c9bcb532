"""Text with a NUL character is refused before any database sees it: a 422 naming where
it is (`name`, `lines.0.name`, `query.q`). PostgreSQL cannot store a NUL in text while
SQLite would, so without this rule the same request was kept on one database and refused
on the other with no field named.

A JSON body can carry a NUL only as the escape `\\u0000` (JSON strings hold no raw control
characters), a query only as `%00`: both are found without decoding anything, so a body
is parsed again only when it holds one."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared_schemas.http.body_limit import read_body
from shared_schemas.http.problems import Problem, problem_response

# A backslash that is no escaped backslash itself, then u0000.
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_MESSAGE = "text may not contain a NUL character"


def nul_in_query(query: bytes) -> str | None:
    """`query.<name>` of the first parameter whose name or value holds a NUL. (A form
    body is its route's to read: a sign-in with a NUL in its username is refused like any
    other sign-in, telling nothing.)"""
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return "query." + name.replace("\x00", "")
    return None


def nul_in_json(body: bytes) -> str | None:
    """The path (`lines.0.name`) of the first member name or string holding a NUL; None
    when there is none, or the body is no JSON (the route says what is wrong with it)."""
    if not _ESCAPED_NUL.search(body):
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return _path_to_nul(document, [])


def _path_to_nul(value: Any, path: list[str]) -> str | None:
    if isinstance(value, str):
        return ".".join(path) or "body" if "\x00" in value else None
    if isinstance(value, dict):
        for name, member in value.items():
            if "\x00" in name:
                return ".".join([*path, name.replace("\x00", "")]) or "body"
            found = _path_to_nul(member, [*path, name])
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _path_to_nul(item, [*path, str(index)])
            if found is not None:
                return found
    return None


def _refused(field: str) -> Problem:
    return Problem(
        422,
        "Text may not contain a NUL character.",
        kind="validation-error",
        title="Validation error",
        errors=[{"field": field, "message": _MESSAGE}],
    )


class NulTextMiddleware:
    """Refuse a query or JSON body holding a NUL; hand anything else on unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = nul_in_query(scope.get("query_string", b""))
        if field is None and scope["method"] in ("POST", "PUT", "PATCH"):
            body = await read_body(receive)
            field = nul_in_json(body)
            receive = _replaying(body, receive)
        if field is not None:
            await problem_response(_refused(field), scope.get("path"))(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` that first gives the body already read, then what the server sends."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
