"""Days in CRM queries: `YYYY-MM-DD` and nothing else."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _calendar_day(value: Any) -> date:
    """`YYYY-MM-DD` and nothing else: pydantic's lax mode would also take a number as
    seconds since 1970 (`0` is 1970-01-01) and a time at midnight as its day."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("date", "a date written YYYY-MM-DD, e.g. 2026-11-30")


Day = Annotated[date, BeforeValidator(_calendar_day)]
"""A day in a query (its JSON schema stays `string`, format `date`)."""
