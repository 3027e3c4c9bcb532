"""One realistic sample of every event type, built through the contract models themselves."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shared_schemas.events.base import EventData
from shared_schemas.events.crm import (
    CustomerArchived,
    CustomerCreated,
    CustomerUpdated,
    InquiryOpened,
    InquiryResolved,
    LeadConverted,
    LeadCreated,
    LeadDisqualified,
    LeadQualified,
    OpportunityLost,
    OpportunityStageChanged,
    OpportunityWon,
    QuoteAccepted,
    QuoteExpired,
    QuoteRejected,
    QuoteSent,
)
from shared_schemas.events.documents import InvoiceLine, OrderLine, QuoteLine, ShipmentLine
from shared_schemas.events.erp import (
    EmployeeHired,
    EmployeeTerminated,
    EmployeeUpdated,
    InvoiceIssued,
    InvoiceOverdue,
    InvoicePaid,
    InvoiceVoided,
    OrderBackordered,
    OrderCancelled,
    OrderConfirmed,
    OrderCreated,
    OrderDelivered,
    OrderOnHold,
    OrderShipped,
    PaymentReceived,
    ProductCreated,
    ProductUpdated,
    StockAdjusted,
    StockLow,
)
from shared_schemas.events.erp.orders import StockShortage
from shared_schemas.events.values import Address, CustomerSnapshot, FieldChange
from shared_schemas.roles import Role

CUSTOMER = uuid.UUID("00000000-0000-4000-8000-00000000c001")
REP = uuid.UUID("00000000-0000-4000-8000-0000000e0001")
MANAGER = uuid.UUID("00000000-0000-4000-8000-0000000e0002")
LEAD = uuid.UUID("00000000-0000-4000-8000-00000000a001")
OPPORTUNITY = uuid.UUID("00000000-0000-4000-8000-00000000b001")
QUOTE = uuid.UUID("00000000-0000-4000-8000-00000000d001")
INQUIRY = uuid.UUID("00000000-0000-4000-8000-00000000e001")
WIDGET = uuid.UUID("00000000-0000-4000-8000-00000000f001")
GADGET = uuid.UUID("00000000-0000-4000-8000-00000000f002")
WAREHOUSE = uuid.UUID("00000000-0000-4000-8000-000000000a01")
ORDER = uuid.UUID("00000000-0000-4000-8000-000000000b01")
SHIPMENT = uuid.UUID("00000000-0000-4000-8000-000000000c01")
INVOICE = uuid.UUID("00000000-0000-4000-8000-000000000d01")
PAYMENT = uuid.UUID("00000000-0000-4000-8000-000000000e01")
MOVEMENT = uuid.UUID("00000000-0000-4000-8000-000000000f01")
DEPARTMENT = uuid.UUID("00000000-0000-4000-8000-000000001001")
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
D = Decimal

BILLING = Address(street="Hauptstraße 1", postal_code="10115", city="Berlin", country="DE")
SHIPPING = Address(
    street="Lagerweg 7", street2="Tor 3", postal_code="28195", city="Bremen", country="DE"
)

# Worked by hand from design.md §4 (half up):
#   WIDGET-1  5 x 250.00, 0 %, tax 19 %     -> net 1250.00, tax 237.50
#   GADGET-2  3 x 19.99, 12.5 %, tax 7 %    -> gross 59.97, net 52.47 (52.47375), tax 3.67
# subtotal 1309.97, discount_total 7.50, tax_total 241.17, total 1543.64.
TOTALS = {
    "currency": "EUR",
    "subtotal": D("1309.97"),
    "discount_total": D("7.50"),
    "tax_total": D("241.17"),
    "total": D("1543.64"),
}
PRICING = [
    {
        "sku": "WIDGET-1",
        "quantity": 5,
        "unit_price": D("250.00"),
        "discount_pct": D("0"),
        "tax_rate": D("19"),
        "line_net": D("1250.00"),
        "line_tax": D("237.50"),
    },
    {
        "sku": "GADGET-2",
        "quantity": 3,
        "unit_price": D("19.99"),
        "discount_pct": D("12.5"),
        "tax_rate": D("7"),
        "line_net": D("52.47"),
        "line_tax": D("3.67"),
    },
]
PRODUCTS = [(WIDGET, "Widget"), (GADGET, "Gadget")]
ORDER_REFS = {
    "order_id": ORDER,
    "number": "SO-2026-000042",
    "quote_id": QUOTE,
    "customer_id": CUSTOMER,
}
INVOICE_REFS = {
    "invoice_id": INVOICE,
    "number": "INV-2026-000001",
    "order_id": ORDER,
    "quote_id": QUOTE,
    "customer_id": CUSTOMER,
    "currency": "EUR",
    "total": D("1543.64"),
}


def _customer_state() -> dict[str, object]:
    return {
        "customer_id": CUSTOMER,
        "kind": "company",
        "name": "Acme GmbH",
        "email": "buyer@acme.example",
        "phone": "+49 30 1234567",
        "billing_address": BILLING,
        "shipping_address": SHIPPING,
        "industry": "Manufacturing",
        "owner_id": REP,
        "credit_limit": D("50000.00"),
        "payment_terms_days": 30,
        "tags": ["key-account"],
        "custom_fields": {"vat_id": "DE123456789", "segment": {"tier": 1}},
    }


def _employee_state() -> dict[str, object]:
    return {
        "employee_id": REP,
        "name": "Rita Rep",
        "email": "rita@company.example",
        "department_id": DEPARTMENT,
        "manager_id": MANAGER,
        "title": "Account Executive",
        "role": Role.SALES,
        "hired_on": date(2026, 1, 5),
    }


def _opportunity() -> dict[str, object]:
    return {
        "opportunity_id": OPPORTUNITY,
        "name": "Acme widgets 2026",
        "customer_id": CUSTOMER,
        "owner_id": REP,
        "amount": D("1543.64"),
        "currency": "EUR",
        "probability": D("60"),
        "expected_close_date": date(2026, 4, 30),
    }


def _quote() -> dict[str, object]:
    return {
        "quote_id": QUOTE,
        "number": "Q-2026-000123",
        "customer_id": CUSTOMER,
        "opportunity_id": OPPORTUNITY,
        "owner_id": REP,
    }


def _inquiry() -> dict[str, object]:
    return {
        "inquiry_id": INQUIRY,
        "customer_id": CUSTOMER,
        "order_id": ORDER,
        "assignee_id": REP,
        "channel": "email",
        "subject": "Where is my order?",
        "priority": "normal",
        "sla_due_at": NOW,
    }


def _stock(version: int, on_hand: int, reserved: int) -> dict[str, object]:
    return {
        "version": version,
        "product_id": WIDGET,
        "sku": "WIDGET-1",
        "warehouse_id": WAREHOUSE,
        "on_hand": on_hand,
        "reserved": reserved,
        "available": on_hand - reserved,
    }


def _product(version: int, unit_price: str) -> dict[str, object]:
    return {
        "version": version,
        "product_id": WIDGET,
        "sku": "WIDGET-1",
        "name": "Widget",
        "unit_price": D(unit_price),
        "currency": "EUR",
        "tax_rate": D("19"),
        "cost": D("140.00"),
        "reorder_point": 10,
        "active": True,
    }


def _snapshot() -> CustomerSnapshot:
    return CustomerSnapshot(
        id=CUSTOMER,
        version=3,
        kind="company",
        name="Acme GmbH",
        email="buyer@acme.example",
        phone="+49 30 1234567",
        billing_address=BILLING,
        shipping_address=SHIPPING,
        credit_limit=D("50000.00"),
        payment_terms_days=30,
    )


def _crm_samples() -> list[EventData]:
    quote_lines = [
        QuoteLine(**line, product_id=product_id, name=name)
        for line, (product_id, name) in zip(PRICING, PRODUCTS, strict=True)
    ]
    return [
        CustomerCreated(version=1, **_customer_state()),
        CustomerUpdated(
            version=2,
            **_customer_state(),
            changes=[
                FieldChange(field="credit_limit", before="20000.00", after="50000.00"),
                FieldChange(field="tags", before=[], after=["key-account"]),
            ],
        ),
        CustomerArchived(version=4, customer_id=CUSTOMER),
        LeadCreated(
            version=1,
            lead_id=LEAD,
            owner_id=REP,
            name="Anna Buyer",
            company_name="Acme GmbH",
            email="anna@acme.example",
            source="web",
            status="new",
        ),
        LeadQualified(version=2, lead_id=LEAD, owner_id=REP, previous_status="contacted"),
        LeadConverted(
            version=3,
            lead_id=LEAD,
            owner_id=REP,
            previous_status="qualified",
            customer_id=CUSTOMER,
            customer_created=True,
            opportunity_id=OPPORTUNITY,
        ),
        LeadDisqualified(
            version=2, lead_id=LEAD, owner_id=None, previous_status="new", reason="No budget"
        ),
        OpportunityStageChanged(
            version=2, **_opportunity(), stage="proposal", previous_stage="qualification"
        ),
        OpportunityWon(version=3, **_opportunity(), previous_stage="negotiation", quote_id=QUOTE),
        OpportunityLost(
            version=3, **_opportunity(), previous_stage="proposal", reason="Chose a competitor"
        ),
        QuoteSent(version=2, **_quote(), **TOTALS, valid_until=date(2026, 3, 31)),
        QuoteAccepted(
            version=3,
            **_quote(),
            **TOTALS,
            valid_until=date(2026, 3, 31),
            lines=quote_lines,
            customer=_snapshot(),
        ),
        QuoteRejected(version=3, **_quote(), reason="Too expensive"),
        QuoteExpired(version=3, **_quote(), valid_until=date(2026, 3, 31)),
        InquiryOpened(version=1, **_inquiry(), status="new"),
        InquiryResolved(
            version=3,
            **_inquiry(),
            previous_status="pending",
            resolved_at=NOW,
            resolution="Tracking number sent.",
        ),
    ]


def _erp_samples() -> list[EventData]:
    order_lines = [
        OrderLine(**line, product_id=product_id, name=name)
        for line, (product_id, name) in zip(PRICING, PRODUCTS, strict=True)
    ]
    invoice_lines = [
        InvoiceLine(**line, product_id=product_id, name=name)
        for line, (product_id, name) in zip(PRICING, PRODUCTS, strict=True)
    ]
    shipped = [
        ShipmentLine(sku="WIDGET-1", product_id=WIDGET, quantity=5),
        ShipmentLine(sku="GADGET-2", product_id=GADGET, quantity=3),
    ]
    return [
        ProductCreated(**_product(1, "250.00")),
        ProductUpdated(**_product(2, "239.90")),
        OrderCreated(version=1, **ORDER_REFS, **TOTALS, lines=order_lines),
        OrderConfirmed(version=2, **ORDER_REFS, previous_status="pending"),
        OrderBackordered(
            version=2,
            **ORDER_REFS,
            previous_status="pending",
            shortages=[
                StockShortage(sku="GADGET-2", product_id=GADGET, quantity=3, quantity_missing=2)
            ],
        ),
        OrderOnHold(
            version=2,
            **ORDER_REFS,
            previous_status="pending",
            currency="EUR",
            total=D("1543.64"),
            credit_limit=D("1000.00"),
            credit_exposure=D("1843.64"),
        ),
        OrderShipped(
            version=3,
            **ORDER_REFS,
            status="shipped",
            shipment_id=SHIPMENT,
            shipment_number="SH-2026-000007",
            lines=shipped,
            carrier="DHL",
            tracking_number="00340434161234567890",
            shipped_at=NOW,
        ),
        OrderDelivered(version=4, **ORDER_REFS, delivered_at=NOW),
        OrderCancelled(version=3, **ORDER_REFS, previous_status="confirmed", reason="Duplicate"),
        StockLow(**_stock(7, on_hand=12, reserved=5), reorder_point=10),
        StockAdjusted(
            **_stock(8, on_hand=10, reserved=5),
            movement_id=MOVEMENT,
            quantity=-2,
            reason="Damaged in storage",
        ),
        InvoiceIssued(
            version=1,
            **INVOICE_REFS,
            subtotal=D("1309.97"),
            discount_total=D("7.50"),
            tax_total=D("241.17"),
            amount_paid=D("0.00"),
            amount_due=D("1543.64"),
            shipment_id=SHIPMENT,
            issued_on=date(2026, 3, 2),
            due_date=date(2026, 4, 1),
            lines=invoice_lines,
        ),
        InvoicePaid(
            version=3,
            **INVOICE_REFS,
            amount_paid=D("1543.64"),
            amount_due=D("0.00"),
            payment_id=PAYMENT,
            paid_on=date(2026, 3, 20),
        ),
        InvoiceOverdue(
            version=2,
            **INVOICE_REFS,
            status="partially_paid",
            amount_paid=D("1000.00"),
            amount_due=D("543.64"),
            due_date=date(2026, 4, 1),
            days_overdue=3,
        ),
        InvoiceVoided(
            version=2,
            **INVOICE_REFS,
            amount_paid=D("0.00"),
            amount_due=D("0.00"),
            reason="Issued to the wrong customer",
        ),
        PaymentReceived(
            version=2,
            **INVOICE_REFS,
            status="partially_paid",
            amount_paid=D("1250.00"),
            amount_due=D("293.64"),
            payment_id=PAYMENT,
            amount=D("1250.00"),
            received_on=date(2026, 3, 10),
            method="bank_transfer",
            reference="RF18 5390 0754 7034",
        ),
        EmployeeHired(version=1, **_employee_state()),
        EmployeeUpdated(
            version=2, **(_employee_state() | {"role": Role.SALES_MANAGER}), status="active"
        ),
        EmployeeTerminated(version=3, **_employee_state(), terminated_on=date(2026, 6, 30)),
    ]


@pytest.fixture(scope="session")
def samples() -> dict[str, EventData]:
    """One valid event of every type, keyed by type string."""
    return {sample.event_type: sample for sample in (*_crm_samples(), *_erp_samples())}
