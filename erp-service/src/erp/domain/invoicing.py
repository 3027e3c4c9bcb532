"""Invoices: what a shipment bills (each order line's part, never more than remains of
the line, the last part taking what remains so an order's invoices add up to it), the
life cycle, and what a payment may be."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from shared_schemas.domain import RuleViolation, StateMachine
from shared_schemas.money import HUNDRED, ZERO, cents, line_amounts

ISSUED = "issued"
PARTIALLY_PAID = "partially_paid"
PAID = "paid"
VOID = "void"
STATUSES = (ISSUED, PARTIALLY_PAID, PAID, VOID)
UNPAID = (ISSUED, PARTIALLY_PAID)
"""Invoices with an amount due: they count against the customer's credit limit."""

LIFECYCLE = StateMachine(
    "invoice",
    {
        ISSUED: {"pay": PARTIALLY_PAID, "void": VOID},
        PARTIALLY_PAID: {"pay": PARTIALLY_PAID},
    },
)
"""What users do: pay (partially_paid, or paid once nothing is due) and void (only while
nothing is paid)."""

PAYMENT_METHODS = ("bank_transfer", "card", "cash", "cheque", "direct_debit")
CASH_METHODS = frozenset({"cash"})


@dataclass(frozen=True)
class OrderLinePart:
    """An order line as invoicing sees it: what it is worth and what was billed so far."""

    quantity: int
    unit_price: Decimal
    discount_pct: Decimal
    tax_rate: Decimal
    line_net: Decimal
    line_tax: Decimal
    quantity_invoiced: int
    net_invoiced: Decimal
    tax_invoiced: Decimal


def billed_amounts(line: OrderLinePart, quantity: int) -> tuple[Decimal, Decimal]:
    """(line_net, line_tax) of `quantity` more units of the line: rounded as design §4
    says, except the part that completes the line, which takes what remains of the line's
    own line_net and line_tax.

    Parts rounded one by one drift from the line, and the last part absorbs the drift, so
    each part is kept where the rest can still absorb it: its net never below zero nor
    above its units' gross (quantity times unit_price, so an invoice's discount_total is never
    negative), and what remains of the line's net never below zero nor above the gross of
    the units still to bill. Parts rounded up (100 units at 0.05, 10 % off, one at a time:
    90 parts of 0.05 already make the line's 4.50) or down (7 units at 1.60, 1 % off: six
    parts of 1.58 would leave 1.61 for the last 1.60 of goods) are held to those bounds;
    the parts still add up exactly to the line. The tax of a part is its rate on its net,
    within what remains of the line's tax."""
    if quantity < 1 or line.quantity_invoiced + quantity > line.quantity:
        raise ValueError(f"{quantity} units cannot be billed of {line}")
    remaining_net = line.line_net - line.net_invoiced
    remaining_tax = line.line_tax - line.tax_invoiced
    if line.quantity_invoiced + quantity == line.quantity:
        return remaining_net, remaining_tax
    net, _ = line_amounts(quantity, line.unit_price, line.discount_pct, line.tax_rate)
    gross = quantity * line.unit_price
    gross_after = (line.quantity - line.quantity_invoiced - quantity) * line.unit_price
    net = min(max(net, remaining_net - gross_after, ZERO), remaining_net, gross)
    return net, min(cents(net * line.tax_rate / HUNDRED), remaining_tax)


def due_date(issued_on: date, payment_terms_days: int) -> date:
    return issued_on + timedelta(days=payment_terms_days)


def status_after_payment(current: str, amount_due_after: Decimal) -> str:
    """partially_paid, or paid when nothing is due; IllegalTransition if the invoice may
    not be paid in its status."""
    partial = LIFECYCLE.next(current, "pay")
    return PAID if amount_due_after == ZERO else partial


def check_payment(amount: Decimal, amount_due: Decimal) -> None:
    """A payment is a positive amount no larger than what is due (422 otherwise)."""
    if amount <= ZERO:
        raise RuleViolation(
            "A payment is a positive amount.", [{"field": "amount", "message": "must be > 0"}]
        )
    if amount > amount_due:
        raise RuleViolation(
            f"The payment of {amount:.2f} exceeds the {amount_due:.2f} due on the invoice.",
            [{"field": "amount", "message": f"at most {amount_due:.2f} is due"}],
        )


def is_overdue(status: str, amount_due: Decimal, due: date, today: date) -> bool:
    """Something is still due on it after its due date (company time zone): an unpaid
    invoice of nothing (every line given away) asks for nothing, so it is never overdue."""
    return status in UNPAID and amount_due > ZERO and due < today


def days_overdue(due: date, today: date) -> int:
    return max((today - due).days, 0)
