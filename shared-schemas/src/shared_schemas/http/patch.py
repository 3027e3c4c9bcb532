"""Null in a PATCH body, read as a JSON merge patch (RFC 7396).

A field left out stays as it is, and null removes a field the resource may be without
(an address, an assignee). A field the resource always has cannot be removed, so null
for it is a 422 naming the field, and nothing of the request is applied. It was taken
for "leave as is" in places and answered 200: a client clearing a field believed it done.

A PATCH model declares its fields `X | None = None`, so each may be left out (and stays
unset for `model_dump(exclude_unset=True)`), and marks the ones that may not be null by
annotating the whole `X | None` with `NotNull`; code reading the field keeps that type::

    class CustomerUpdate(BaseModel):
        name: Annotated[Words | None, NotNull] = Field(default=None, max_length=200)
        email: EmailStr | None = None

The marker refuses null after the field's own validation (so its constraints report as
usual), with the error located at the field like any other invalid value. It also takes
the null alternative out of the field's JSON schema, so the OpenAPI documents, and a
client generated from them, do not offer a null the service refuses. (The `"default":
null` of `model_json_schema()` is set around the type, out of the marker's reach; the
OpenAPI documents leave null defaults out.)"""

from __future__ import annotations

from typing import Any, Final

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

NOT_NULL = "may not be null"


def _refuse(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("null_refused", NOT_NULL)
    return value


def _without_null(schema: JsonSchemaValue) -> JsonSchemaValue:
    """`schema` less its null alternative: `{"anyOf": [X, {"type": "null"}]}` becomes X."""
    alternatives = schema.get("anyOf")
    if alternatives is None:
        return schema
    kept = [alternative for alternative in alternatives if alternative != {"type": "null"}]
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    if len(kept) == 1:
        return {**kept[0], **rest}
    return {"anyOf": kept, **rest}


class _NotNull:
    """The annotation behind `NotNull`; one instance is all there is."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # Only a value given is validated, so a field left out passes and stays unset.
        # Constraints given in the field's `Field(...)` come before this marker in the
        # metadata, so `handler` has applied them already (to the non-null alternative).
        return core_schema.no_info_after_validator_function(_refuse, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return _without_null(handler(schema))

    def __repr__(self) -> str:
        return "NotNull"


NotNull: Final = _NotNull()
"""In `Annotated[X | None, NotNull]`: the field may be left out, and null for it is a 422."""
