"""Events survive the wire: new_event -> JSON -> CloudEvent[Model], money exact as strings."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from shared_schemas.events.base import CloudEvent, EventData, new_event
from shared_schemas.events.crm import QuoteAccepted
from shared_schemas.events.erp import EmployeeHired, InvoiceIssued, PaymentReceived
from shared_schemas.events.registry import EVENT_TYPES

pytestmark = pytest.mark.contract

ModelT = TypeVar("ModelT", bound=EventData)


def _wire(data: EventData) -> str:
    return new_event(data, source="test", actor="tester", correlation_id="req-1").model_dump_json()


def _read(wire: str, model: type[ModelT]) -> CloudEvent[ModelT]:
    return CloudEvent[model].model_validate_json(wire)  # type: ignore[valid-type]


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_type_round_trips_unchanged(
    event_type: str, samples: dict[str, EventData]
) -> None:
    sample = samples[event_type]
    event = _read(_wire(sample), EVENT_TYPES[event_type])
    assert event.type == event_type
    assert event.subject == sample.aggregate_id()
    assert event.data == sample


def test_quote_accepted_carries_lines_totals_and_customer_snapshot(
    samples: dict[str, EventData],
) -> None:
    sample = samples["crm.quote.accepted.v1"]
    wire = _wire(sample)
    data: dict[str, Any] = json.loads(wire)["data"]

    assert data["currency"] == "EUR"
    assert (data["subtotal"], data["discount_total"], data["tax_total"], data["total"]) == (
        "1309.97",
        "7.50",
        "241.17",
        "1543.64",
    )
    widget, gadget = data["lines"]
    assert widget["unit_price"] == "250.00"
    assert widget["line_net"] == "1250.00"
    assert widget["discount_pct"] == "0"
    assert widget["tax_rate"] == "19"
    assert gadget["discount_pct"] == "12.5"
    assert gadget["line_net"] == "52.47"
    customer = data["customer"]
    assert customer["credit_limit"] == "50000.00"
    assert customer["payment_terms_days"] == 30
    assert customer["billing_address"]["city"] == "Berlin"
    assert customer["shipping_address"]["street2"] == "Tor 3"

    quote = _read(wire, QuoteAccepted).data
    assert quote.lines[1].unit_price == Decimal("19.99")
    assert quote.lines[1].discount_pct == Decimal("12.5")
    assert quote.total == Decimal("1543.64")
    assert str(quote.discount_total) == "7.50"
    assert quote.customer.credit_limit == Decimal("50000.00")
    assert quote.customer.version == 3


def test_invoice_issued_carries_order_quote_customer_and_balance(
    samples: dict[str, EventData],
) -> None:
    wire = _wire(samples["erp.invoice.issued.v1"])
    data: dict[str, Any] = json.loads(wire)["data"]

    assert {"order_id", "quote_id", "customer_id", "shipment_id"} <= data.keys()
    assert (data["total"], data["amount_paid"], data["amount_due"]) == (
        "1543.64",
        "0.00",
        "1543.64",
    )
    assert data["due_date"] == "2026-04-01"
    invoice = _read(wire, InvoiceIssued).data
    assert invoice.amount_paid == Decimal("0.00")
    assert sum(line.line_net for line in invoice.lines) + invoice.tax_total == invoice.total


def test_payment_received_is_keyed_by_invoice_and_keeps_amounts_exact(
    samples: dict[str, EventData],
) -> None:
    sample = samples["erp.payment.received.v1"]
    wire = _wire(sample)
    envelope: dict[str, Any] = json.loads(wire)
    data = envelope["data"]

    assert envelope["subject"] == data["invoice_id"]
    assert (data["amount"], data["amount_paid"], data["amount_due"]) == (
        "1250.00",
        "1250.00",
        "293.64",
    )
    payment = _read(wire, PaymentReceived).data
    assert payment.amount + payment.amount_due == payment.total == Decimal("1543.64")
    assert payment.status == "partially_paid"


def test_employee_hired_carries_role_and_dates_as_text(samples: dict[str, EventData]) -> None:
    wire = _wire(samples["erp.employee.hired.v1"])
    data: dict[str, Any] = json.loads(wire)["data"]

    assert data["role"] == "sales"
    assert data["status"] == "active"
    assert data["hired_on"] == "2026-01-05"
    assert data["terminated_on"] is None
    assert "salary" not in data
    employee = _read(wire, EmployeeHired).data
    assert employee.manager_id is not None


def test_money_never_travels_as_a_float(samples: dict[str, EventData]) -> None:
    for sample in samples.values():
        for value in _leaves(json.loads(_wire(sample))):
            assert not isinstance(value, float), sample.event_type


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]
