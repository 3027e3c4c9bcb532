"""The registry holds exactly design.md §6's event types, on catalogued topics, keyed right."""

from __future__ import annotations

import uuid
from typing import ClassVar

import pytest

from shared_schemas.events.base import EventData
from shared_schemas.events.catalogue import TOPICS
from shared_schemas.events.registry import (
    EVENT_TYPES,
    ContractError,
    UnknownEventType,
    build_registry,
    contract_problems,
    event_model,
    event_types_of,
)

pytestmark = pytest.mark.contract

# Written out from the table in design.md §6, on purpose not derived from the code.
DESIGN_EVENT_TYPES = {
    "crm.customer": [
        "crm.customer.created.v1",
        "crm.customer.updated.v1",
        "crm.customer.archived.v1",
    ],
    "crm.lead": [
        "crm.lead.created.v1",
        "crm.lead.qualified.v1",
        "crm.lead.converted.v1",
        "crm.lead.disqualified.v1",
    ],
    "crm.opportunity": [
        "crm.opportunity.stage_changed.v1",
        "crm.opportunity.won.v1",
        "crm.opportunity.lost.v1",
    ],
    "crm.quote": [
        "crm.quote.sent.v1",
        "crm.quote.accepted.v1",
        "crm.quote.rejected.v1",
        "crm.quote.expired.v1",
    ],
    "crm.inquiry": ["crm.inquiry.opened.v1", "crm.inquiry.resolved.v1"],
    "erp.product": ["erp.product.created.v1", "erp.product.updated.v1"],
    "erp.order": [
        "erp.order.created.v1",
        "erp.order.confirmed.v1",
        "erp.order.backordered.v1",
        "erp.order.on_hold.v1",
        "erp.order.shipped.v1",
        "erp.order.delivered.v1",
        "erp.order.cancelled.v1",
    ],
    "erp.stock": ["erp.stock.low.v1", "erp.stock.adjusted.v1"],
    "erp.invoice": [
        "erp.invoice.issued.v1",
        "erp.invoice.paid.v1",
        "erp.invoice.overdue.v1",
        "erp.invoice.voided.v1",
        "erp.payment.received.v1",
    ],
    "erp.employee": [
        "erp.employee.hired.v1",
        "erp.employee.updated.v1",
        "erp.employee.terminated.v1",
    ],
}

SUBJECT_FIELDS = {
    "crm.customer": "customer_id",
    "crm.lead": "lead_id",
    "crm.opportunity": "opportunity_id",
    "crm.quote": "quote_id",
    "crm.inquiry": "inquiry_id",
    "erp.product": "product_id",
    "erp.order": "order_id",
    "erp.stock": "product_id",
    "erp.invoice": "invoice_id",
    "erp.employee": "employee_id",
}


def test_registry_holds_exactly_the_designed_event_types() -> None:
    designed = [name for names in DESIGN_EVENT_TYPES.values() for name in names]
    assert len(designed) == 35
    assert sorted(EVENT_TYPES) == sorted(designed)


@pytest.mark.parametrize("topic", sorted(DESIGN_EVENT_TYPES))
def test_each_topic_carries_its_designed_types_keyed_by_the_aggregate(topic: str) -> None:
    assert sorted(event_types_of(topic)) == sorted(DESIGN_EVENT_TYPES[topic])
    for name in DESIGN_EVENT_TYPES[topic]:
        model = event_model(name)
        assert model.event_type == name
        assert model.topic == topic
        assert model.subject_field == SUBJECT_FIELDS[topic]


def test_every_catalogue_topic_has_event_types() -> None:
    assert {topic.name for topic in TOPICS} == set(DESIGN_EVENT_TYPES)


def test_payment_received_is_published_on_the_invoice_topic_keyed_by_invoice(
    samples: dict[str, EventData],
) -> None:
    payment = samples["erp.payment.received.v1"]
    assert type(payment).topic == "erp.invoice"
    assert payment.aggregate_id() == str(payment.invoice_id)  # type: ignore[attr-defined]


def test_sample_subjects_are_their_aggregate_ids(samples: dict[str, EventData]) -> None:
    assert sorted(samples) == sorted(EVENT_TYPES)
    for sample in samples.values():
        uuid.UUID(sample.aggregate_id())
        assert sample.aggregate_id() == str(getattr(sample, SUBJECT_FIELDS[sample.topic]))


def test_unknown_type_is_refused() -> None:
    with pytest.raises(UnknownEventType):
        event_model("crm.quote.accepted.v9")


class _Good(EventData):
    """A well-formed contract."""

    event_type: ClassVar[str] = "crm.quote.reopened.v2"
    topic: ClassVar[str] = "crm.quote"
    subject_field: ClassVar[str] = "quote_id"

    quote_id: uuid.UUID


class _WrongTopic(_Good):
    """Named for crm.quote but published on crm.lead."""

    event_type: ClassVar[str] = "crm.quote.moved.v1"
    topic: ClassVar[str] = "crm.lead"


class _Uncatalogued(_Good):
    """On a topic nobody created."""

    event_type: ClassVar[str] = "crm.campaign.started.v1"
    topic: ClassVar[str] = "crm.campaign"


class _BadName(_Good):
    """No version suffix."""

    event_type: ClassVar[str] = "crm.quote.reopened"


class _NoSubject(_Good):
    """Keyed by a field it does not have."""

    event_type: ClassVar[str] = "crm.quote.cloned.v1"
    subject_field: ClassVar[str] = "clone_id"


class _Undocumented(_Good):
    event_type: ClassVar[str] = "crm.quote.copied.v1"


class _Abstract(EventData):
    """Never given a type."""


def test_well_formed_contracts_pass_the_check() -> None:
    assert contract_problems([_Good]) == []
    assert build_registry([_Good]) == {"crm.quote.reopened.v2": _Good}


@pytest.mark.parametrize(
    ("models", "problem"),
    [
        ([_Good, _Good], "declared twice"),
        ([_WrongTopic], "its name says otherwise"),
        ([_Uncatalogued], "not in the catalogue"),
        ([_BadName], "does not match"),
        ([_NoSubject], "is not a field"),
        ([_Undocumented], "needs a docstring"),
        ([_Abstract], "must be set"),
    ],
)
def test_broken_contracts_are_refused(models: list[type[EventData]], problem: str) -> None:
    assert any(problem in found for found in contract_problems(models))
    with pytest.raises(ContractError, match=problem):
        build_registry(models)
