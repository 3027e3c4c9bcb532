"""Whole numbers written in what clients and webhook receivers send (a header, a query
parameter): ASCII digits only, however long.

`str.isdigit` is not the test: it holds for `²` and other digits `int` refuses, and a
string of thousands of digits passes it but not `int`'s length limit; both would be a
500 (or a crashed delivery) where a refusal or an ignored value is meant.
"""

from __future__ import annotations


def whole_number(text: str, most: int) -> int | None:
    """The number `text` spells in ASCII digits (surrounding whitespace allowed), at most
    `most` (a larger one is `most`); None when it is not such a number."""
    digits = text.strip()
    if not digits or not (digits.isascii() and digits.isdigit()):
        return None
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(most)):
        return most
    return min(int(significant), most)
