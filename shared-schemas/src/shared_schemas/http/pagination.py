"""Keyset (cursor) pagination, the one implementation every list endpoint uses.

A cursor is the sort key of the last item of the previous page, opaque to the client
(URL-safe base64 of JSON). Pages are `{"items": [...], "next_cursor": "..." | null}`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import AwareDatetime, BaseModel, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from shared_schemas.http.problems import Problem

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """A page's example is one page of its item's example."""
        schema = handler(core_schema)
        args = cls.__pydantic_generic_metadata__.get("args") or ()
        item = args[0] if args else None
        extra = getattr(item, "model_config", {}).get("json_schema_extra")
        examples = extra.get("examples") if isinstance(extra, dict) else None
        if examples:
            schema["examples"] = [
                {"items": examples[:1], "next_cursor": encode_cursor(["-created_at", "…", "…"])}
            ]
        return schema


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}.")]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="`next_cursor` of the previous page."),
]


CreatedFrom = Annotated[
    AwareDatetime | None,
    Query(description="Only records created at or after this time (with its time zone)."),
]
CreatedTo = Annotated[
    AwareDatetime | None,
    Query(description="Only records created before this time (with its time zone)."),
]


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    """The sort key a cursor carries; 422 for a cursor this API did not issue."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise invalid_cursor() from exc
    if not isinstance(key, list) or not key or not _is_unicode(key):
        raise invalid_cursor()
    return key


def _is_unicode(key: list[Any]) -> bool:
    """Whether a cursor's values are Unicode text: JSON may escape a lone surrogate
    (`"\\ud800"`), which no cursor this API issues holds and no database stores."""
    try:
        json.dumps(key, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


def invalid_cursor() -> Problem:
    return Problem(
        422,
        "The cursor is not valid.",
        kind="validation-error",
        title="Validation error",
        errors=[{"field": "query.cursor", "message": "not a cursor issued by this API"}],
    )


def page_of(items: Sequence[ItemT], limit: int, key: Any) -> Page[ItemT]:
    """A page from up to `limit + 1` fetched items; `key(item)` is the item's sort key."""
    if len(items) > limit:
        shown = list(items[:limit])
        return Page(items=shown, next_cursor=encode_cursor(key(shown[-1])))
    return Page(items=list(items), next_cursor=None)
