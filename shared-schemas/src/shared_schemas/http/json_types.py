"""Numbers and yes/no values a request body must give as what they are in JSON.

FastAPI validates a body in pydantic's Python mode after `json.loads`, and lax mode there
takes `true` as the quantity 1, `"2"` and `2.0` as 2, `"52.5"` as a latitude, and `"yes"`
or `1` as true: a malformed request would succeed as if it were well formed. These types
accept a JSON integer (not a boolean, a string or a number with a point), a JSON number
and a JSON boolean only; any other value is a 422 naming the field. Their JSON schema
stays `integer`, `number` and `boolean`.

They are for request bodies alone: query and path parameters arrive as text and are
parsed as such, and responses and events are written and read by the services
themselves. Amounts and rates have their own types (`shared_schemas.money`).

Days and times are the exception: `Day` and `Moment` hold a query's text and a body's
string alike to the ISO form, since lax mode reads a number as seconds since 1970 in
both (`0` is 1970-01-01) and takes a time for its day."""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, Strict, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

JsonInt = Annotated[int, Strict()]
"""A JSON integer; its range is the field's own (`Field(ge=…, le=…)`)."""

JsonNumber = Annotated[float, Strict()]
"""A JSON number (with or without a point); not a boolean, not a string."""

JsonBool = Annotated[bool, Strict()]
"""A JSON `true` or `false`."""


DAY_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
"""A day as written: `YYYY-MM-DD`."""
MOMENT_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]")
"""How a time as written starts: its day, then the time."""
_AWARE = TypeAdapter(AwareDatetime)


def _calendar_day(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and DAY_FORM.fullmatch(value):
        with suppress(ValueError):  # 2026-02-30: refused below
            return date.fromisoformat(value)
    raise PydanticCustomError("date", "a date written YYYY-MM-DD, e.g. 2026-11-30")


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str) and MOMENT_FORM.match(value):
        with suppress(ValidationError):  # no zone, no such time: refused below
            return _AWARE.validate_python(value)
    raise PydanticCustomError(
        "datetime", "a time with its zone, e.g. 2026-11-30T09:30:00+01:00 or ...Z"
    )


Day = Annotated[date, BeforeValidator(_calendar_day)]
"""A day, `YYYY-MM-DD` and nothing else (JSON schema: string, format date)."""

Moment = Annotated[AwareDatetime, BeforeValidator(_moment)]
"""A time with its zone in ISO 8601 form, never a number (JSON schema: string, format
date-time)."""
