"""Days and times in a request are taken only as written in ISO form: lax parsing would
read a number as seconds since 1970 and a time as its day, dating a record wrongly
without a word."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from shared_schemas.http.json_types import Day, Moment


class Dated(BaseModel):
    day: Day | None = None
    at: Moment | None = None


@pytest.mark.parametrize(
    ("field", "written", "read"),
    [
        ("day", "2026-11-30", date(2026, 11, 30)),
        ("at", "2026-11-30T09:30:00Z", datetime(2026, 11, 30, 9, 30, tzinfo=UTC)),
        (
            "at",
            "2026-11-30 09:30:00+01:00",
            datetime(2026, 11, 30, 9, 30, tzinfo=timezone(timedelta(hours=1))),
        ),
    ],
)
def test_the_iso_form_is_read(field: str, written: str, read: Any) -> None:
    assert getattr(Dated.model_validate({field: written}), field) == read


@pytest.mark.parametrize(
    ("field", "written"),
    [
        ("day", 0),
        ("day", "0"),
        ("day", "2026-11-30T00:00:00"),
        ("day", "2026-02-30"),
        ("day", "30.11.2026"),
        ("at", 1700000000),
        ("at", "0.5"),
        ("at", "2026-11-30T09:30:00"),  # no zone: whose 09:30?
        ("at", "2026-11-30"),
        ("at", True),
    ],
)
def test_anything_else_is_refused_naming_the_field(field: str, written: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        Dated.model_validate({field: written})
    [error] = refused.value.errors()
    assert error["loc"] == (field,)
    assert ("YYYY-MM-DD" if field == "day" else "with its zone") in error["msg"]


def test_the_json_schema_is_an_iso_string() -> None:
    properties = Dated.model_json_schema()["properties"]
    assert properties["day"]["anyOf"][0] == {"type": "string", "format": "date"}
    assert properties["at"]["anyOf"][0] == {"type": "string", "format": "date-time"}
