"""Null in a PATCH body, read as a JSON merge patch (RFC 7396).

A field left out stays as it is, and null removes a field the resource may be without
(an address, an assignee). A field the resource always has cannot be removed, so null
for it is a 422 naming the field, and nothing of the request is applied. It was taken
for "leave as is" in places and answered 200: a client clearing a field believed it done.

A PATCH model declares its fields `X | None = None` (left out and null both validate)
and names the ones that may not be null::

    class CustomerUpdate(BaseModel):
        name: Words | None = None
        email: EmailStr | None = None
        _not_null = refuse_null("name")

The refusal is a field validator, so the error is located at the field and the problem
names it like any other invalid value."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator
from pydantic_core import PydanticCustomError

NOT_NULL = "may not be null"


def _refuse(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("null_refused", NOT_NULL)
    return value


def refuse_null(*fields: str) -> Any:
    """A validator, assigned in the model's body, that refuses null for `fields`
    (`"*"`: every field). Only a value given is validated, so a field left out passes."""
    if not fields:
        raise TypeError("name the fields that may not be null")
    return field_validator(*fields)(staticmethod(_refuse))
