"""Text a request must give, such as a name, a subject or a reason: stored without the
white space around it, and refused (422) when nothing else is left. A customer named
"   " would be listed, searched and printed on documents as nobody."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

NonBlank = StringConstraints(strip_whitespace=True, min_length=1)
"""Trims white space (Unicode's, as `str.strip`) and requires a character to remain."""


def _invisible(character: str) -> bool:
    # White space, and the format characters that print as nothing: a zero-width space,
    # a byte order mark left by a spreadsheet's export, a soft hyphen.
    return character.isspace() or unicodedata.category(character) == "Cf"


def _visible(value: str) -> str:
    """`value` without the invisible characters around it; refused when nothing is left."""
    start, end = 0, len(value)
    while start < end and _invisible(value[start]):
        start += 1
    while end > start and _invisible(value[end - 1]):
        end -= 1
    if start == end:
        raise PydanticCustomError("blank", "must have a visible character")
    return value[start:end]


Words = Annotated[str, NonBlank, AfterValidator(_visible)]
"""A required piece of text; its length limit is the field's own (`Field(max_length=…)`).
Format characters at its ends go as white space does: a name of a zero-width space alone
is as blank as one of spaces."""
