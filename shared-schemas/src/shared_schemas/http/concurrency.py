"""Optimistic concurrency over HTTP: `ETag: "<version>"` out, `If-Match` in (412 if stale)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response

from shared_schemas.http.problems import Problem
from shared_schemas.http.wire_numbers import whole_number

# Versions are 64-bit integers in every database: a larger If-Match never matches.
MAX_VERSION = 2**63 - 1


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def expected_version(if_match: str | None) -> int | None:
    """The version an `If-Match` header names; None when absent or `*`; 400 if unreadable."""
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip()
    if value.startswith("W/"):
        value = value[2:]
    version = whole_number(value.strip('"'), MAX_VERSION)
    if version is None:
        raise Problem(
            400,
            'If-Match must be the ETag of the record, e.g. "3".',
            kind="bad-request",
            errors=[{"field": "If-Match", "message": "not an ETag of this API"}],
        )
    return version


# What `expected_version` reads: `*`, or a version number, quoted as an ETag (or not),
# weak or strong, with whitespace around.
IF_MATCH_FORM = r'^\s*(\*|(W/)?"?[0-9]+"?)\s*$'

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The `ETag` the change is based on; 412 if the record changed since. "
        '`*` (any version) checks nothing; a weak `W/"3"` counts as `"3"`.',
        examples=['"3"'],
        # Documented, not enforced here: `expected_version` answers 400 to anything else.
        json_schema_extra={"pattern": IF_MATCH_FORM},
    ),
]
