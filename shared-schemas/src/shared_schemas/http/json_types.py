"""Numbers and yes/no values a request body must give as what they are in JSON.

FastAPI validates a body in pydantic's Python mode after `json.loads`, and lax mode there
takes `true` as the quantity 1, `"2"` and `2.0` as 2, `"52.5"` as a latitude, and `"yes"`
or `1` as true: a malformed request would succeed as if it were well formed. These types
accept a JSON integer (not a boolean, a string or a number with a point), a JSON number
and a JSON boolean only; any other value is a 422 naming the field. Their JSON schema
stays `integer`, `number` and `boolean`.

They are for request bodies alone: query and path parameters arrive as text and are
parsed as such, and responses and events are written and read by the services
themselves. Amounts and rates have their own types (`shared_schemas.money`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Strict

JsonInt = Annotated[int, Strict()]
"""A JSON integer; its range is the field's own (`Field(ge=…, le=…)`)."""

JsonNumber = Annotated[float, Strict()]
"""A JSON number (with or without a point); not a boolean, not a string."""

JsonBool = Annotated[bool, Strict()]
"""A JSON `true` or `false`."""
