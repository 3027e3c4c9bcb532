"""Customers: duplicate keys, addresses, tags and typed custom fields."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from shared_schemas.domain import RuleViolation
from shared_schemas.listing import SEARCH_KEY_LENGTH, normalise

KINDS = ("company", "person")
FIELD_TYPES = ("text", "number", "date", "boolean", "select")
MAX_TAGS = 50
# A number custom field is stored and filtered as NUMERIC(20, 6).
NUMBER_INTEGER_DIGITS = 14
NUMBER_DECIMALS = 6

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)

# Legal forms that do not make two company names different ("Acme GmbH" = "ACME").
_LEGAL_FORMS = frozenset(
    {
        "ag",
        "bv",
        "co",
        "company",
        "corp",
        "corporation",
        "gmbh",
        "inc",
        "incorporated",
        "kg",
        "limited",
        "llc",
        "llp",
        "ltd",
        "nv",
        "oy",
        "plc",
        "pty",
        "sa",
        "sarl",
        "sas",
        "spa",
        "srl",
        "ug",
    }
)


# Single letters each followed by a dot, at least two: an abbreviation such as "S.A.".
_DOTTED = re.compile(r"(?<!\w)(?:\w\.){2,}|(?<!\w)(?:\w\.)+\w(?!\w)")


def match_key(name: str) -> str:
    """The normalised name duplicate detection compares: case, accents, punctuation and
    legal forms ignored; cut to its search column (folding may lengthen a name)."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    # Letters written with dots are one word ("S.A." is "sa", "L.L.C." is "llc").
    plain = _DOTTED.sub(lambda dotted: dotted[0].replace(".", ""), plain)
    words = re.sub(r"[^\w]+", " ", plain).split()
    meaningful = [word for word in words if word not in _LEGAL_FORMS]
    return " ".join(meaningful or words)[:SEARCH_KEY_LENGTH]


def normalise_tags(tags: Sequence[str]) -> list[str]:
    """Tags trimmed, lower-cased, de-duplicated, in the order given."""
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = " ".join(tag.split()).casefold()
        if cleaned:
            seen.setdefault(cleaned)
    if len(seen) > MAX_TAGS:
        raise RuleViolation(
            f"A customer has at most {MAX_TAGS} tags.",
            [{"field": "tags", "message": f"at most {MAX_TAGS}"}],
        )
    return list(seen)


@dataclass(frozen=True)
class FieldDefinition:
    key: str
    type: str
    required: bool = False
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class TypedValue:
    """A custom field value in the one column its type is stored and filtered in."""

    text: str | None = None
    number: Decimal | None = None
    day: date | None = None
    flag: bool | None = None


def check_custom_fields(
    values: Mapping[str, Any], definitions: Mapping[str, FieldDefinition], *, partial: bool
) -> dict[str, Any]:
    """Validate custom field values against their definitions; return them canonical.

    Unknown keys, wrong types and missing required fields (unless `partial`) are refused
    together, one error per field.
    """
    errors: list[dict[str, str]] = []
    canonical: dict[str, Any] = {}
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            errors.append({"field": f"custom_fields.{key}", "message": "no such custom field"})
            continue
        if value is None:
            if definition.required:
                errors.append({"field": f"custom_fields.{key}", "message": "required"})
            else:
                canonical[key] = None
            continue
        try:
            canonical[key] = _canonical(definition, value)
        except ValueError as exc:
            errors.append({"field": f"custom_fields.{key}", "message": str(exc)})
    if not partial:
        for key, definition in definitions.items():
            if definition.required and key not in values:
                errors.append({"field": f"custom_fields.{key}", "message": "required"})
    if errors:
        raise RuleViolation("Some custom fields are not valid.", errors)
    return canonical


def _canonical(definition: FieldDefinition, value: Any) -> Any:
    kind = definition.type
    if kind == "text":
        if not isinstance(value, str) or len(value) > 1000:
            raise ValueError("must be a text of at most 1000 characters")
        if not _is_unicode(value):
            raise ValueError("must be Unicode text (it holds a lone surrogate)")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError("must be a number")
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise ValueError("must be a number") from exc
        if not number.is_finite():
            raise ValueError("must be a finite number")
        # Checked on the exponent before writing the digits out: "1e999999999" is short.
        if number and number.adjusted() >= NUMBER_INTEGER_DIGITS:
            raise ValueError(f"must be less than 1e{NUMBER_INTEGER_DIGITS} in magnitude")
        if _decimals(number) > NUMBER_DECIMALS:
            number = number.normalize()  # trailing zeros are no decimals ("0E-9999" is 0)
            if _decimals(number) > NUMBER_DECIMALS:
                raise ValueError(f"must have at most {NUMBER_DECIMALS} decimals")
        return format(number, "f")
    if kind == "date":
        # A JSON text in the one form the API writes dates in: not 20261201, "2026-W48-1".
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            raise ValueError("must be a date (YYYY-MM-DD)")
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError as exc:
            raise ValueError("must be a date (YYYY-MM-DD)") from exc
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if kind == "select":
        if value not in definition.options:
            raise ValueError(f"must be one of {', '.join(definition.options)}")
        return value
    raise ValueError(f"unknown field type {kind}")


def _decimals(number: Decimal) -> int:
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # a finite number's
    return max(0, -exponent)


def _is_unicode(text: str) -> bool:
    """False for text holding a lone surrogate (JSON can escape one, no database stores it)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def typed_value(definition: FieldDefinition, canonical: Any) -> TypedValue:
    """Where a canonical value is stored for filtering: a text folded and cut to its
    search column, as the filter value it is compared with (a text may be 1000
    characters, the column holds the first 200 of its folded form)."""
    if definition.type == "number":
        return TypedValue(number=Decimal(canonical))
    if definition.type == "date":
        return TypedValue(day=date.fromisoformat(canonical))
    if definition.type == "boolean":
        return TypedValue(flag=bool(canonical))
    return TypedValue(text=normalise(str(canonical)))


def parse_filter_value(definition: FieldDefinition, raw: str) -> TypedValue:
    """A `cf.<key>=<raw>` query value as the typed value to compare with."""
    if definition.type == "boolean":
        if raw.lower() not in ("true", "false"):
            raise RuleViolation(
                "Not a boolean.", [{"field": f"cf.{definition.key}", "message": "true or false"}]
            )
        return TypedValue(flag=raw.lower() == "true")
    try:
        return typed_value(definition, _canonical(definition, raw))
    except ValueError as exc:
        raise RuleViolation(
            f"Cannot filter {definition.key} by {raw!r}.",
            [{"field": f"cf.{definition.key}", "message": str(exc)}],
        ) from exc
