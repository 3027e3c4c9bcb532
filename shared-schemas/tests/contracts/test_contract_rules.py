"""Rules every contract keeps: no salary, tolerance of additions, design.md §4 arithmetic."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from shared_schemas.events.base import CloudEvent, EventData, new_event
from shared_schemas.events.crm import CustomerUpdated, QuoteAccepted
from shared_schemas.events.documents import InvoiceLine, OrderLine, QuoteLine, line_amounts
from shared_schemas.events.erp import InvoicePaid, InvoiceVoided, PaymentReceived
from shared_schemas.events.registry import EVENT_TYPES, event_types_of

pytestmark = pytest.mark.contract

EMPLOYEE_TYPES = event_types_of("erp.employee")


def _property_names(schema: Any) -> set[str]:
    """Every property name anywhere in a JSON Schema, nested definitions included."""
    if isinstance(schema, dict):
        properties = schema.get("properties")
        names = set(properties) if isinstance(properties, dict) else set()
        return names.union(*(_property_names(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_property_names(item) for item in schema))
    return set()


def test_there_are_employee_events_to_check() -> None:
    assert sorted(EMPLOYEE_TYPES) == [
        "erp.employee.hired.v1",
        "erp.employee.terminated.v1",
        "erp.employee.updated.v1",
    ]


@pytest.mark.parametrize("event_type", EMPLOYEE_TYPES)
def test_no_employee_event_has_a_salary(event_type: str, samples: dict[str, EventData]) -> None:
    model = EVENT_TYPES[event_type]
    names = _property_names(model.model_json_schema())
    assert names >= {"employee_id", "role", "manager_id"}
    assert not any("salary" in name for name in names)
    # A producer that passes salary by mistake does not leak it: it is dropped on the way in.
    leaked = samples[event_type].model_dump(mode="json") | {"salary": "85000.00"}
    assert "salary" not in model.model_validate(leaked).model_dump_json()


def test_unknown_fields_are_ignored_at_every_level(samples: dict[str, EventData]) -> None:
    sample = samples["crm.quote.accepted.v1"]
    envelope: dict[str, Any] = json.loads(
        new_event(sample, source="crm-service", actor="tester").model_dump_json()
    )
    envelope["newextension"] = "x"
    envelope["data"]["loyalty_tier"] = "gold"
    envelope["data"]["lines"][0]["warranty_months"] = 24
    envelope["data"]["customer"]["vat_id"] = "DE123456789"
    envelope["data"]["customer"]["billing_address"]["geo"] = {"lat": 52.5, "lon": 13.4}

    event = CloudEvent[QuoteAccepted].model_validate_json(json.dumps(envelope))

    assert event.data == sample
    assert "loyalty_tier" not in event.data.model_dump()


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_contract_and_nested_value_ignores_unknown_fields(event_type: str) -> None:
    pending: list[type[BaseModel]] = [EVENT_TYPES[event_type]]
    while pending:
        model = pending.pop()
        assert model.model_config.get("extra") == "ignore", model.__name__
        assert model.model_config.get("frozen") is True, model.__name__
        for field in model.model_fields.values():
            pending.extend(_nested_models(field.annotation))


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in getattr(annotation, "__args__", ()) for model in _nested_models(arg)]


def test_customer_updated_carries_full_state_and_json_changes(
    samples: dict[str, EventData],
) -> None:
    data = json.loads(samples["crm.customer.updated.v1"].model_dump_json())
    assert set(CustomerUpdated.model_fields) - {"changes"} <= data.keys()
    assert data["changes"][0] == {
        "field": "credit_limit",
        "before": "20000.00",
        "after": "50000.00",
    }
    assert data["changes"][1] == {"field": "tags", "before": [], "after": ["key-account"]}


@pytest.mark.parametrize(
    ("quantity", "unit_price", "discount_pct", "tax_rate", "net", "tax"),
    [
        (5, "250.00", "0", "19", "1250.00", "237.50"),
        (3, "19.99", "12.5", "7", "52.47", "3.67"),
        # 0.045 rounds half up to 0.05, where banker's rounding would give 0.04.
        (1, "0.05", "10", "0", "0.05", "0.00"),
        # 0.125 tax rounds half up to 0.13.
        (1, "1.25", "0", "10", "1.25", "0.13"),
    ],
)
def test_line_amounts_round_half_up(
    quantity: int, unit_price: str, discount_pct: str, tax_rate: str, net: str, tax: str
) -> None:
    amounts = line_amounts(quantity, Decimal(unit_price), Decimal(discount_pct), Decimal(tax_rate))
    assert amounts == (Decimal(net), Decimal(tax))


def _line(**changes: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "sku": "GADGET-2",
        "product_id": "00000000-0000-4000-8000-00000000f002",
        "name": "Gadget",
        "quantity": 3,
        "unit_price": "19.99",
        "discount_pct": "12.5",
        "tax_rate": "7",
        "line_net": "52.47",
        "line_tax": "3.67",
    }
    return line | changes


def refused(field: str) -> str:
    """Matches a validation error naming `field` as the one refused (pydantic puts each
    error's location on a line of its own)."""
    return rf"(?m)^{re.escape(field)}$"


@pytest.mark.parametrize("model", [QuoteLine, OrderLine])
def test_quote_and_order_lines_must_be_rounded_as_designed(model: type[BaseModel]) -> None:
    model.model_validate(_line())
    with pytest.raises(ValidationError, match=re.escape("line_net/line_tax must be 52.47/3.67")):
        model.model_validate(_line(line_net="52.48"))
    with pytest.raises(ValidationError, match=refused("quantity")):
        model.model_validate(_line(quantity=0, line_net="0.00", line_tax="0.00"))
    with pytest.raises(ValidationError, match=refused("discount_pct")):
        model.model_validate(_line(discount_pct="101"))


def test_invoice_lines_may_carry_the_order_lines_remainder() -> None:
    # The last invoice of a line takes what is left of its line_net and line_tax.
    remainder = InvoiceLine.model_validate(_line(quantity=1, line_net="17.49", line_tax="1.23"))
    assert remainder.line_net == Decimal("17.49")


def test_totals_must_add_up_to_the_lines(samples: dict[str, EventData]) -> None:
    data = samples["crm.quote.accepted.v1"].model_dump(mode="json")
    with pytest.raises(ValidationError, match=re.escape("tax_total must be 241.17")):
        QuoteAccepted.model_validate(data | {"tax_total": "241.18", "total": "1543.65"})
    with pytest.raises(ValidationError, match="total must equal"):
        QuoteAccepted.model_validate(data | {"total": "1543.65"})
    with pytest.raises(ValidationError, match=re.escape("customer.id")):
        QuoteAccepted.model_validate(data | {"customer_id": "00000000-0000-4000-8000-00000000c002"})


def test_money_with_more_than_cents_is_refused(samples: dict[str, EventData]) -> None:
    data = samples["erp.payment.received.v1"].model_dump(mode="json")
    with pytest.raises(ValidationError, match="more than two decimals"):
        PaymentReceived.model_validate(data | {"amount": "1250.001"})
    with pytest.raises(ValidationError, match="decimal string"):
        PaymentReceived.model_validate(data | {"amount": 1250.5})  # a float
    with pytest.raises(ValidationError, match=refused("amount")):
        PaymentReceived.model_validate(data | {"amount": "0.00"})


def test_invoice_balance_must_add_up(samples: dict[str, EventData]) -> None:
    payment = samples["erp.payment.received.v1"].model_dump(mode="json")
    with pytest.raises(ValidationError, match=re.escape("amount_due must be 293.64")):
        PaymentReceived.model_validate(payment | {"amount_due": "300.00"})
    paid = samples["erp.invoice.paid.v1"].model_dump(mode="json")
    with pytest.raises(ValidationError, match="a paid invoice has nothing due"):
        InvoicePaid.model_validate(paid | {"amount_paid": "1000.00", "amount_due": "543.64"})
    voided = samples["erp.invoice.voided.v1"].model_dump(mode="json")
    assert InvoiceVoided.model_validate(voided).amount_due == Decimal("0.00")
    with pytest.raises(ValidationError, match=re.escape("amount_due must be 0.00")):
        InvoiceVoided.model_validate(voided | {"amount_due": "1543.64"})


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("erp.order.shipped.v1", "delivered"),
        ("erp.order.confirmed.v1", "shipped"),
        ("erp.invoice.paid.v1", "issued"),
        ("erp.employee.terminated.v1", "active"),
    ],
)
def test_statuses_are_the_designed_ones(
    event_type: str, status: str, samples: dict[str, EventData]
) -> None:
    data = samples[event_type].model_dump(mode="json") | {"status": status}
    with pytest.raises(ValidationError, match=refused("status")):
        EVENT_TYPES[event_type].model_validate(data)
