"""Text a request must give, such as a name, a subject or a reason: stored without the
white space around it, and refused (422) when nothing else is left. A customer named
"   " would be listed, searched and printed on documents as nobody."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

NonBlank = StringConstraints(strip_whitespace=True, min_length=1)
"""Trims white space (Unicode's, as `str.strip`) and requires a character to remain."""

Words = Annotated[str, NonBlank]
"""A required piece of text; its length limit is the field's own (`Field(max_length=…)`)."""
