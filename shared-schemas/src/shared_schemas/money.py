"""Line and document arithmetic of design.md §4, the one implementation everything uses
(quotes, orders, invoices and their events)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    """`value` rounded half up to whole cents."""
    return value.quantize(CENT, ROUND_HALF_UP)


def line_amounts(
    quantity: int, unit_price: Decimal, discount_pct: Decimal, tax_rate: Decimal
) -> tuple[Decimal, Decimal]:
    """(line_net, line_tax): net = q * price * (1 - discount/100), tax = net * rate/100,
    each rounded half up to cents."""
    net = cents(quantity * unit_price * (1 - discount_pct / HUNDRED))
    return net, cents(net * tax_rate / HUNDRED)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal


def document_totals(lines: Iterable[tuple[int, Decimal, Decimal, Decimal]]) -> Totals:
    """The four totals from (quantity, unit_price, line_net, line_tax) of each line."""
    gross = net = tax = ZERO
    for quantity, unit_price, line_net, line_tax in lines:
        gross += quantity * unit_price
        net += line_net
        tax += line_tax
    gross = cents(gross)
    return Totals(subtotal=gross, discount_total=gross - net, tax_total=tax, total=net + tax)


def _exact_cents(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("amount must be a finite number")
    try:
        cents = value.quantize(CENT)
    except InvalidOperation:  # more digits than the decimal context holds
        raise ValueError("amount is too large") from None
    if cents != value:
        raise ValueError("amount has more than two decimals")
    return _unsigned_zero(cents)


def _unsigned_zero(value: Decimal) -> Decimal:
    """-0 is zero: written back as "-0.00" it reads as a debt or a refund."""
    return value + 0 if value.is_zero() else value


def _plain_decimal(value: Decimal) -> str:
    """Without trailing zeros, however it was given or stored: a rate of 7.5 reads "7.5"
    whether it was sent as "7.50" or read from a column of four decimals ("7.5000")."""
    return format(value.normalize(), "f")


def _not_a_float(value: object) -> object:
    """Amounts and rates are decimal strings (or whole numbers): a number with a fraction
    may have lost digits to binary floating point before it reached us, so it is refused."""
    if isinstance(value, float):
        raise ValueError('must be a decimal string such as "1250.00", not a fractional number')
    return value


# What the JSON schemas of requests (validation) and responses (serialization) say: a
# request may give an amount as a whole number or with fewer decimals, a response always
# has two; both are written as strings, never as fractional numbers.
_WHOLE_NUMBER = {"type": "integer", "description": "A whole amount, e.g. 1250."}
_AMOUNT_IN: dict[str, Any] = {
    "anyOf": [{"type": "string", "pattern": r"^-?\d+(\.\d{1,2})?$"}, _WHOLE_NUMBER],
    "description": 'A decimal string with at most two decimals ("1250", "1250.5", "1250.00") '
    "or a whole number; never a fractional number.",
    "examples": ["1250.00"],
}
_AMOUNT_OUT: dict[str, Any] = {
    "type": "string",
    "pattern": r"^-?\d+\.\d{2}$",
    "description": "A decimal string with exactly two decimals.",
    "examples": ["1250.00"],
}
_RATE_IN: dict[str, Any] = {
    "anyOf": [{"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}, _WHOLE_NUMBER],
    "description": 'A percent as a decimal string ("19", "7.5") or a whole number.',
    "examples": ["19"],
}
_RATE_OUT: dict[str, Any] = {
    "type": "string",
    "pattern": r"^-?\d+(\.\d+)?$",
    "description": 'A percent as a decimal string ("19", "7.5").',
    "examples": ["19"],
}


Money = Annotated[
    Decimal,
    BeforeValidator(_not_a_float),
    AfterValidator(_exact_cents),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json"),
    WithJsonSchema(_AMOUNT_IN, mode="validation"),
    WithJsonSchema(_AMOUNT_OUT, mode="serialization"),
]
"""An amount of money: a decimal string with exactly two decimals, never a float. Requests
may also give whole numbers and fewer decimals (`1250`, `"1250.5"`)."""

Percent = Annotated[
    Decimal,
    BeforeValidator(_not_a_float),
    AfterValidator(_unsigned_zero),
    PlainSerializer(_plain_decimal, return_type=str, when_used="json"),
    WithJsonSchema(_RATE_IN, mode="validation"),
    WithJsonSchema(_RATE_OUT, mode="serialization"),
]
"""A rate in percent as a decimal string (`"19"` is 19 %)."""

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 currency code."""
