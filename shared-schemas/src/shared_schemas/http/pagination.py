"""Keyset (cursor) pagination, the one implementation every list endpoint uses.

A cursor is the sort key of the last item of the previous page, opaque to the client
(URL-safe base64 of JSON). Pages are `{"items": [...], "next_cursor": "..." | null}`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    TypeAdapter,
    ValidationError,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from shared_schemas.http.json_types import DAY_FORM, MOMENT_FORM
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


_MOMENT = TypeAdapter(AwareDatetime)
_DAY_OR_MOMENT = "a date (2026-11-01) or a time with its zone (2026-11-01T09:30:00+01:00)"


def _day_or_moment(value: Any) -> Any:
    """A query's `YYYY-MM-DD` is a day, anything else a time with its zone; one message
    for what is neither (a time without a zone among them)."""
    if not isinstance(value, str):
        return value
    try:
        if DAY_FORM.fullmatch(value):
            return date.fromisoformat(value)
        if not MOMENT_FORM.match(value):  # pydantic alone reads `0.5` as a time in 1970
            raise ValueError(value)
        return _MOMENT.validate_python(value)
    except (ValueError, ValidationError):
        raise PydanticCustomError("date_or_time", _DAY_OR_MOMENT) from None


DayOrMoment = Annotated[datetime | date, BeforeValidator(_day_or_moment)]


def _start_of(request: Request, day: date) -> datetime:
    """Midnight starting `day` in the company's time zone (COMPANY_TIMEZONE)."""
    return datetime.combine(day, time(), tzinfo=request.app.state.settings.company.zone)


_FIRST_MOMENT = datetime.min.replace(tzinfo=UTC)
_LAST_MOMENT = datetime.max.replace(tzinfo=UTC)


def _in_utc(
    moment: datetime, *, before_calendar: datetime | None, after_calendar: datetime | None
) -> datetime | None:
    """A range's bound in UTC, as every database compares it. A bound that falls before
    year 1 or past year 9999 there (0001-01-01 at +01:00) has every record on one side:
    it is no bound (None) or one no record passes, as the caller says for each side."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return before_calendar if moment.year == 1 else after_calendar


def range_from(name: str, what: str) -> Any:
    """The dependency reading query parameter `name`, the start of a time range: a time
    with its zone, or a day, which starts at its first moment in the company's zone."""
    description = (
        f"Only records {what} at or after this time (with its time zone), or from the "
        "start of this day in the company's time zone."
    )

    def start(request: Request, value: datetime | date | None = None) -> datetime | None:
        if value is None:
            return None
        moment = value if isinstance(value, datetime) else _start_of(request, value)
        return _in_utc(moment, before_calendar=None, after_calendar=_LAST_MOMENT)

    return _reading(start, name, description)


def range_to(name: str, what: str) -> Any:
    """The dependency reading query parameter `name`, the end of a time range (excluded):
    a time with its zone, or a day, which is included up to its last moment."""
    description = (
        f"Only records {what} before this time (with its time zone), or up to the end of "
        "this day (included) in the company's time zone."
    )

    def end(request: Request, value: datetime | date | None = None) -> datetime | None:
        if value is None or value == date.max:
            return None  # everything happened by the end of the calendar
        if isinstance(value, datetime):
            moment = value
        else:
            moment = _start_of(request, value + timedelta(days=1))
        return _in_utc(moment, before_calendar=_FIRST_MOMENT, after_calendar=None)

    return _reading(end, name, description)


def _reading(bound: Callable[..., datetime | None], name: str, description: str) -> Any:
    """`bound` as a dependency taking its `value` from the query parameter `name`. The
    annotations are objects, not text: a parameter's name and description vary per use,
    which text annotations cannot say."""
    bound.__annotations__ = {
        "request": Request,
        "value": Annotated[DayOrMoment | None, Query(alias=name, description=description)],
        "return": datetime | None,
    }
    return Depends(bound)


CreatedFrom = Annotated[datetime | None, range_from("created_from", "created")]
CreatedTo = Annotated[datetime | None, range_to("created_to", "created")]


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
