"""`refuse_null`: null for a named field is an error located at that field; a field left
out, or given null where it may be, passes."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared_schemas.http.patch import NOT_NULL, refuse_null

pytestmark = pytest.mark.unit


class Update(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=5)
    count: int | None = None
    note: str | None = None

    _not_null = refuse_null("name", "count")


class Everything(BaseModel):
    name: str | None = None
    count: int | None = None

    _not_null = refuse_null("*")


def refused(model: type[BaseModel], body: dict[str, object]) -> list[tuple[object, ...]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


def test_null_for_a_named_field_is_refused_at_that_field() -> None:
    assert refused(Update, {"name": None, "count": None, "note": "x"}) == [
        (("name",), NOT_NULL),
        (("count",), NOT_NULL),
    ]
    assert refused(Everything, {"count": None}) == [(("count",), NOT_NULL)]


def test_a_field_left_out_or_one_that_may_be_null_passes() -> None:
    assert Update.model_validate({}).model_dump(exclude_unset=True) == {}
    assert Update.model_validate({"note": None}).model_dump(exclude_unset=True) == {"note": None}
    assert Update.model_validate({"name": "Ada", "count": 0}).count == 0


def test_the_fields_own_constraints_still_apply() -> None:
    assert refused(Update, {"name": "too long"}) == [
        (("name",), "String should have at most 5 characters")
    ]


def test_it_names_the_fields() -> None:
    with pytest.raises(TypeError):
        refuse_null()
