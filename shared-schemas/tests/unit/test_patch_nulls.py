"""`NotNull`: null for a marked field is an error located at that field; a field left
out, or given null where it may be, passes; the JSON schema offers null only where it is
taken."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared_schemas.http.patch import NOT_NULL, NotNull

pytestmark = pytest.mark.unit


class Place(BaseModel):
    city: str


class Update(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str | None, NotNull] = Field(default=None, max_length=5, description="Shown.")
    count: Annotated[int | None, NotNull] = None
    place: Annotated[Place | None, NotNull] = None
    tags: Annotated[list[str] | None, NotNull] = Field(default=None, min_length=1)
    note: str | None = None
    home: Place | None = None


def refused(model: type[BaseModel], body: dict[str, object]) -> list[tuple[object, ...]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


def properties() -> dict[str, Any]:
    schema: dict[str, Any] = Update.model_json_schema()
    return schema["properties"]  # type: ignore[no-any-return]


def test_null_for_a_marked_field_is_refused_at_that_field() -> None:
    body = {"name": None, "count": None, "place": None, "tags": None, "note": "x"}
    assert refused(Update, body) == [
        (("name",), NOT_NULL),
        (("count",), NOT_NULL),
        (("place",), NOT_NULL),
        (("tags",), NOT_NULL),
    ]
    with pytest.raises(ValidationError) as caught:
        Update.model_validate({"count": None})
    assert [error["type"] for error in caught.value.errors()] == ["null_refused"]


def test_a_field_left_out_or_one_that_may_be_null_passes() -> None:
    assert Update.model_validate({}).model_dump(exclude_unset=True) == {}
    assert Update.model_validate({"note": None, "home": None}).model_dump(exclude_unset=True) == {
        "note": None,
        "home": None,
    }
    given = Update.model_validate({"name": "Ada", "count": 0, "place": {"city": "Bonn"}})
    assert given.model_dump(exclude_unset=True) == {
        "name": "Ada",
        "count": 0,
        "place": {"city": "Bonn"},
    }


def test_the_fields_own_constraints_still_apply() -> None:
    assert refused(Update, {"name": "too long"}) == [
        (("name",), "String should have at most 5 characters")
    ]
    assert refused(Update, {"tags": []}) == [
        (("tags",), "List should have at least 1 item after validation, not 0")
    ]


def test_the_schema_of_a_marked_field_offers_no_null() -> None:
    fields = properties()
    assert fields["name"] == {
        "default": None,
        "description": "Shown.",
        "maxLength": 5,
        "title": "Name",
        "type": "string",
    }
    assert fields["count"] == {"default": None, "title": "Count", "type": "integer"}
    assert fields["place"] == {"$ref": "#/$defs/Place", "default": None}
    assert fields["tags"]["type"] == "array"
    assert fields["tags"]["minItems"] == 1
    for name in ("name", "count", "place", "tags"):
        assert "anyOf" not in fields[name], name
    assert "name" not in Update.model_json_schema().get("required", [])


def test_the_schema_of_a_field_that_may_be_null_keeps_its_null() -> None:
    fields = properties()
    assert {"type": "null"} in fields["note"]["anyOf"]
    assert fields["home"]["anyOf"] == [{"$ref": "#/$defs/Place"}, {"type": "null"}]
