"""Real events validate against the published JSON Schemas, as a non-Python consumer sees them.

Needs the `jsonschema` package, which is not a dependency yet: skipped without it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared_schemas.events.base import EventData, new_event
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
