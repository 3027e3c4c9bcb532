"""What a shipment bills of an order line: parts rounded as design §4 says, never more
than remains of the line, never negative, and adding up exactly to the line."""

from __future__ import annotations

import itertools
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from erp.domain.invoicing import OrderLinePart, billed_amounts
from shared_schemas.money import line_amounts

pytestmark = pytest.mark.unit

D = Decimal


def order_line(quantity: int, unit_price: str, discount_pct: str, tax_rate: str) -> OrderLinePart:
    price, discount, rate = D(unit_price), D(discount_pct), D(tax_rate)
    net, tax = line_amounts(quantity, price, discount, rate)
    return OrderLinePart(
        quantity=quantity,
        unit_price=price,
        discount_pct=discount,
        tax_rate=rate,
        line_net=net,
        line_tax=tax,
        quantity_invoiced=0,
        net_invoiced=D("0.00"),
        tax_invoiced=D("0.00"),
    )


def bill(line: OrderLinePart, shipments: list[int]) -> list[tuple[Decimal, Decimal]]:
    """The parts invoiced for each shipment in turn, the line updated as invoicing does."""
    parts = []
    for quantity in shipments:
        net, tax = billed_amounts(line, quantity)
        parts.append((net, tax))
        line = replace(
            line,
            quantity_invoiced=line.quantity_invoiced + quantity,
            net_invoiced=line.net_invoiced + net,
            tax_invoiced=line.tax_invoiced + tax,
        )
    return parts


def test_a_part_rounds_on_its_own_and_the_last_takes_what_remains() -> None:
    # 3 chairs at 19.99, 10 % off, 19 % tax: 53.97 / 10.25 for the line.
    line = order_line(3, "19.99", "10", "19")
    assert bill(line, [1, 2]) == [(D("17.99"), D("3.42")), (D("35.98"), D("6.83"))]


def test_parts_rounded_up_one_by_one_stop_at_the_line_and_never_go_negative() -> None:
    # 100 units at 0.05, 10 % off, 19 % tax: the line is 4.50 net, 0.86 tax; one unit
    # alone rounds to 0.05 net, 0.01 tax, so 90 units already bill the whole net and 86
    # the whole tax. Without the limit the last part would be -0.45 net, -0.13 tax.
    line = order_line(100, "0.05", "10", "19")
    assert (line.line_net, line.line_tax) == (D("4.50"), D("0.86"))
    parts = bill(line, [1] * 100)
    assert parts[0] == (D("0.05"), D("0.01"))
    assert parts[85] == (D("0.05"), D("0.01"))
    assert parts[86] == (D("0.05"), D("0.00"))
    assert parts[89] == (D("0.05"), D("0.00"))
    assert parts[90:] == [(D("0.00"), D("0.00"))] * 10
    assert sum(net for net, _ in parts) == D("4.50")
    assert sum(tax for _, tax in parts) == D("0.86")


def test_parts_rounded_down_leave_the_last_no_more_than_its_goods() -> None:
    # 7 units at 1.60, 1 % off: the line is 11.09 net; one unit alone rounds to 1.58, so
    # six such parts would leave 1.61 for the last unit's 1.60 of goods, a negative
    # discount on its invoice. The sixth part takes 1.59 and the last 1.60.
    line = order_line(7, "1.60", "1", "0")
    assert line.line_net == D("11.09")
    parts = bill(line, [1] * 7)
    assert [net for net, _ in parts] == [D("1.58")] * 5 + [D("1.59"), D("1.60")]
    # Shipped 3 at a time, 100 units: no part bills more than its units' gross.
    line = order_line(100, "1.60", "1", "19")
    shipments = [3] * 33 + [1]
    parts = bill(line, shipments)
    assert all(net <= units * D("1.60") for (net, _), units in zip(parts, shipments, strict=True))
    assert sum(net for net, _ in parts) == line.line_net


@st.composite
def lines_and_shipments(draw: st.DrawFn) -> tuple[OrderLinePart, list[int]]:
    quantity = draw(st.integers(1, 300))
    # Small prices most often: there rounding each part up weighs most; prices of a few
    # units with a small discount round each part down by more than the discount leaves.
    cents = draw(st.one_of(st.integers(0, 30), st.integers(100, 999), st.integers(0, 100_000)))
    discount = draw(
        st.sampled_from(["0", "0.5", "1", "2.5", "7.5", "10", "33.3333", "50", "99", "100"])
    )
    rate = draw(st.sampled_from(["0", "5", "7", "16", "19", "20", "21", "25"]))
    line = order_line(quantity, f"{D(cents).scaleb(-2):.2f}", discount, rate)
    # Equal small shipments, where each part's rounding goes the same way, or a random split.
    size = draw(st.integers(1, 5))
    if draw(st.booleans()):
        return line, [size] * (quantity // size) + ([quantity % size] if quantity % size else [])
    cuts = draw(st.lists(st.integers(1, quantity - 1), max_size=30)) if quantity > 1 else []
    points = [0, *sorted(set(cuts)), quantity]
    return line, [b - a for a, b in itertools.pairwise(points)]


@settings(max_examples=200, deadline=None)
@given(lines_and_shipments())
def test_parts_are_never_negative_nor_above_their_goods_and_add_up_exactly_to_the_line(
    drawn: tuple[OrderLinePart, list[int]],
) -> None:
    line, shipments = drawn
    parts = bill(line, shipments)
    assert all(net >= 0 and tax >= 0 for net, tax in parts), parts
    # An invoice's discount_total (its gross less its net) is never negative.
    gross = [units * line.unit_price for units in shipments]
    assert all(net <= most for (net, _), most in zip(parts, gross, strict=True)), parts
    assert sum((net for net, _ in parts), D("0.00")) == line.line_net
    assert sum((tax for _, tax in parts), D("0.00")) == line.line_tax


def test_more_units_than_the_line_has_left_are_refused() -> None:
    line = order_line(2, "10.00", "0", "19")
    with pytest.raises(ValueError, match="3 units cannot be billed"):
        billed_amounts(line, 3)
    with pytest.raises(ValueError, match="0 units cannot be billed"):
        billed_amounts(line, 0)
