"""JSON Schema of each event type: the whole CloudEvent envelope with that type's data."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import DEFAULT_REF_TEMPLATE

from shared_schemas.events.base import CloudEvent, EventData
from shared_schemas.events.catalogue import topic

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID_PREFIX = "urn:crm-erp:events:"

_ENVELOPE_DESCRIPTIONS = {
    "specversion": "CloudEvents specification version.",
    "id": "Unique id of this event; consumers deduplicate on it.",
    "time": "When the change happened (UTC).",
    "datacontenttype": "Media type of `data`.",
    "correlationid": "X-Request-ID of the request that started the chain of events.",
    "causationid": "Id of the event whose handling caused this one, if any.",
    "actor": "User id who made the change, or the service for automatic changes.",
}


def summary(model: type[EventData]) -> str:
    """The first line of the model's docstring: what happened."""
    return (model.__doc__ or "").strip().splitlines()[0]


def envelope_schema(
    model: type[EventData], ref_template: str = DEFAULT_REF_TEMPLATE
) -> dict[str, Any]:
    """The CloudEvent schema for `model`'s data, with type and source pinned to the contract."""
    envelope = CloudEvent[model]  # type: ignore[valid-type]
    schema: dict[str, Any] = envelope.model_json_schema(
        ref_template=ref_template, mode="serialization"
    )
    properties: dict[str, Any] = schema["properties"]
    for name, description in _ENVELOPE_DESCRIPTIONS.items():
        properties[name]["description"] = description
    properties["type"] = {
        "const": model.event_type,
        "description": "The event type; consumers route on it, never on anything else.",
        "title": "Type",
        "type": "string",
    }
    properties["source"] = {
        "const": topic(model.topic).owner,
        "description": "The service that published the event.",
        "title": "Source",
        "type": "string",
    }
    properties["subject"] = {
        "description": f"The aggregate id, data.{model.subject_field}; also the Kafka key.",
        "format": "uuid",
        "title": "Subject",
        "type": "string",
    }
    schema["title"] = model.event_type
    schema["description"] = summary(model)
    return schema


def event_json_schema(model: type[EventData]) -> dict[str, Any]:
    """The standalone draft 2020-12 document published as `json/<event type>.json`."""
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{SCHEMA_ID_PREFIX}{model.event_type}",
        **envelope_schema(model),
    }
