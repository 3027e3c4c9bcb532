"""Real events validate against the published JSON Schemas, as a non-Python consumer sees them.

Needs the `jsonschema` package, which is not a dependency yet: skipped without it.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from shared_schemas.events.base import CloudEvent, EventData, new_event
from shared_schemas.events.catalogue import topic
from shared_schemas.events.json_schemas import event_json_schema
from shared_schemas.events.registry import EVENT_TYPES

jsonschema = pytest.importorskip("jsonschema")

pytestmark = pytest.mark.contract


def _validator(event_type: str) -> Any:
    return jsonschema.Draft202012Validator(
        event_json_schema(EVENT_TYPES[event_type]), format_checker=jsonschema.FormatChecker()
    )


def _published(sample: EventData) -> dict[str, Any]:
    owner = topic(sample.topic).owner
    envelope = new_event(sample, source=owner, actor="tester", correlation_id="req-1")
    document: dict[str, Any] = json.loads(envelope.model_dump_json())
    return document


def test_the_generated_schemas_are_valid_draft_2020_12() -> None:
    for model in EVENT_TYPES.values():
        jsonschema.Draft202012Validator.check_schema(event_json_schema(model))


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_a_sample_event_validates_against_its_schema(
    event_type: str, samples: dict[str, EventData]
) -> None:
    errors = list(_validator(event_type).iter_errors(_published(samples[event_type])))
    assert errors == []


def test_the_schemas_refuse_what_the_models_refuse(samples: dict[str, EventData]) -> None:
    validator = _validator("crm.quote.accepted.v1")
    event = _published(samples["crm.quote.accepted.v1"])
    assert validator.is_valid(event)

    assert not validator.is_valid(event | {"type": "crm.quote.sent.v1"})
    assert not validator.is_valid(event | {"source": "erp-service"})
    as_float = json.loads(json.dumps(event))
    as_float["data"]["total"] = 1543.64
    assert not validator.is_valid(as_float)
    three_decimals = json.loads(json.dumps(event))
    three_decimals["data"]["lines"][0]["unit_price"] = "250.001"
    assert not validator.is_valid(three_decimals)
    no_snapshot = json.loads(json.dumps(event))
    del no_snapshot["data"]["customer"]
    assert not validator.is_valid(no_snapshot)


def _at(event: dict[str, Any], path: tuple[str | int, ...], value: str) -> dict[str, Any]:
    changed: dict[str, Any] = json.loads(json.dumps(event))
    target = changed["data"]
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


PERCENTAGES = [
    ("crm.quote.accepted.v1", ("lines", 0, "discount_pct")),
    ("crm.quote.accepted.v1", ("lines", 0, "tax_rate")),
    ("erp.order.created.v1", ("lines", 0, "tax_rate")),
    ("erp.invoice.issued.v1", ("lines", 0, "discount_pct")),
    ("erp.product.created.v1", ("tax_rate",)),
    ("crm.opportunity.won.v1", ("probability",)),
]


@pytest.mark.parametrize(("event_type", "path"), PERCENTAGES)
@pytest.mark.parametrize("value", ["-5", "-0.5", "100.5", "250"])
def test_the_schemas_refuse_percentages_outside_0_to_100_as_the_models_do(
    event_type: str, path: tuple[str | int, ...], value: str, samples: dict[str, EventData]
) -> None:
    event = _at(_published(samples[event_type]), path, value)
    where = ".".join(str(part) for part in ("data", *path))
    with pytest.raises(ValidationError, match=rf"(?m)^{re.escape(where)}$"):
        CloudEvent[EVENT_TYPES[event_type]].model_validate(event)  # type: ignore[misc]
    assert not _validator(event_type).is_valid(event)


@pytest.mark.parametrize("value", ["0", "7.5", "19", "100"])
def test_the_schemas_take_every_percentage_the_models_publish(
    value: str, samples: dict[str, EventData]
) -> None:
    for event_type, path in PERCENTAGES[-2:]:
        event = _at(_published(samples[event_type]), path, value)
        model = CloudEvent[EVENT_TYPES[event_type]]  # type: ignore[misc]
        republished = json.loads(model.model_validate(event).model_dump_json())
        assert _validator(event_type).is_valid(republished), (event_type, value)


@pytest.mark.parametrize("value", ["-0.00", "-0"])
def test_a_negative_zero_is_published_as_a_zero_the_schema_takes(
    value: str, samples: dict[str, EventData]
) -> None:
    product = samples["erp.product.created.v1"]
    data = product.model_dump() | {"cost": Decimal(value)}
    assert json.loads(type(product).model_validate(data).model_dump_json())["cost"] == "0.00"
    event = _published(type(product).model_validate(data))
    assert _validator("erp.product.created.v1").is_valid(event)

    quote = _published(samples["crm.quote.accepted.v1"])
    free = _at(quote, ("lines", 0, "discount_pct"), value)
    model = CloudEvent[EVENT_TYPES["crm.quote.accepted.v1"]]  # type: ignore[misc]
    republished = json.loads(model.model_validate(free).model_dump_json())
    assert republished["data"]["lines"][0]["discount_pct"] == "0"
    assert _validator("crm.quote.accepted.v1").is_valid(republished)
