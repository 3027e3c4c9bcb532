"""The AsyncAPI 3.0 document of the platform's topics, event types and dead-letter topics."""

from __future__ import annotations

from typing import Any

from shared_schemas.events.base import CLOUDEVENTS_CONTENT_TYPE, EventData
from shared_schemas.events.catalogue import CONSUMER_GROUPS, TOPICS, Topic, dlq_topic
from shared_schemas.events.json_schemas import envelope_schema, summary
from shared_schemas.events.registry import EVENT_TYPES, ContractError, event_types_of

ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_VERSION = "1.0.0"
"""Version of the event API as a whole; each event type carries its own `.vN`."""

KAFKA_BINDING_VERSION = "0.5.0"
COMPONENT_REF = "#/components/schemas/{model}"
DLQ_CHANNEL = "dlq"
DLQ_MESSAGE = "dead-letter"

# The headers Consumer._dead_letter adds to the original record's own headers.
DLQ_HEADERS: dict[str, dict[str, Any]] = {
    "dlq-reason": {
        "enum": ["malformed", "invalid", "failed"],
        "description": "malformed: not a CloudEvent; invalid: data does not match the "
        "contract; failed: the handler kept failing.",
    },
    "dlq-error": {"description": "The error, truncated to 4000 characters."},
    "dlq-attempts": {"pattern": r"^\d+$", "description": "How many times it was tried."},
    "dlq-consumer-group": {"description": "The consumer group that gave up on it."},
    "dlq-original-topic": {"description": "Where the message was read from."},
    "dlq-original-partition": {"pattern": r"^\d+$", "description": "Its partition there."},
    "dlq-original-offset": {"pattern": r"^\d+$", "description": "Its offset there."},
    "dlq-failed-at": {"format": "date-time", "description": "When it was dead-lettered (UTC)."},
    "dlq-value-omitted": {
        "pattern": r"^\d+$",
        "description": "Only on a record too large for the dead-letter topic: the size in bytes "
        "of its value, left out with its key and headers (the group's dead-letter log keeps "
        "it whole for a replay).",
    },
}
DLQ_OPTIONAL_HEADERS = frozenset({"dlq-value-omitted"})
"""The `dlq-*` headers only some dead letters carry."""

_DESCRIPTION = """\
Business events of the CRM and ERP services. Every Kafka record value is a CloudEvents 1.0
document in structured mode (header `content-type: application/cloudevents+json`). The
record key is the aggregate id (also the CloudEvent `subject`), so each aggregate's events
stay in order; `data.version` is the aggregate's version after the change, so consumers
drop stale events. Delivery is at least once: consumers deduplicate on the event `id`.
Additive changes keep a type's version and consumers ignore unknown fields; a breaking
change is published as a new `.vN` type beside the old one until consumers have moved.
Messages a consumer group cannot apply go to its dead-letter topic `dlq.<group>`."""


def _merge_definitions(schemas: dict[str, Any], definitions: dict[str, Any]) -> None:
    for name, definition in definitions.items():
        if schemas.setdefault(name, definition) != definition:
            raise ContractError(f"two different schemas are both named {name}")


def _message(model: type[EventData]) -> dict[str, Any]:
    return {
        "name": model.event_type,
        "title": model.__name__,
        "summary": summary(model),
        "contentType": CLOUDEVENTS_CONTENT_TYPE,
        "headers": {
            "type": "object",
            "properties": {
                "content-type": {"const": CLOUDEVENTS_CONTENT_TYPE},
                "ce-type": {"const": model.event_type},
                "correlation-id": {
                    "type": "string",
                    "description": "The request id that started the chain, when known.",
                },
            },
            "required": ["content-type", "ce-type"],
        },
        "payload": {"$ref": f"#/components/schemas/{model.event_type}"},
        "correlationId": {
            "description": "The X-Request-ID of the originating request.",
            "location": "$message.payload#/correlationid",
        },
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "format": "uuid",
                    "description": f"The aggregate id: data.{model.subject_field}.",
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _channel(topic: Topic, event_types: list[str]) -> dict[str, Any]:
    return {
        "address": topic.name,
        "title": topic.name,
        "description": f"{topic.description} Published by {topic.owner}.",
        "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in event_types},
        "bindings": {
            "kafka": {
                "topic": topic.name,
                "partitions": topic.partitions,
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _operation(topic: Topic, event_types: list[str]) -> dict[str, Any]:
    return {
        "action": "send",
        "channel": {"$ref": f"#/channels/{topic.name}"},
        "title": f"{topic.owner} publishes {topic.name}",
        "summary": f"{topic.owner} publishes these events through its outbox relay.",
        "messages": [{"$ref": f"#/channels/{topic.name}/messages/{name}"} for name in event_types],
    }


def _dead_letter_message() -> dict[str, Any]:
    headers = {name: {"type": "string", **schema} for name, schema in DLQ_HEADERS.items()}
    return {
        "name": DLQ_MESSAGE,
        "title": "Dead letter",
        "summary": "A message a consumer group could not apply, with why.",
        "description": "The original record's key, value and headers, byte for byte, plus "
        "the `dlq-*` headers; a record too large for the dead-letter topic comes without its "
        "key, value and headers, its size in `dlq-value-omitted`. An admin endpoint lists "
        "and replays dead letters.",
        "headers": {
            "type": "object",
            "properties": headers,
            "required": sorted(set(DLQ_HEADERS) - DLQ_OPTIONAL_HEADERS),
            "additionalProperties": {
                "type": "string",
                "description": "The original record's headers (content-type, ce-type, ...).",
            },
        },
        "payload": {
            "description": "The original record value: usually one of the CloudEvents above, "
            "but for dlq-reason malformed possibly not even JSON; empty with dlq-value-omitted."
        },
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": "The original record's key (none with dlq-value-omitted).",
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _dead_letter_channel() -> dict[str, Any]:
    return {
        "address": dlq_topic("{group}"),
        "title": "Dead letters",
        "description": "One topic per consumer group: messages that failed to parse, failed "
        "contract validation, or kept failing after retries with backoff.",
        "parameters": {
            "group": {
                "enum": list(CONSUMER_GROUPS),
                "description": "The consumer group whose dead letters the topic holds.",
            }
        },
        "messages": {DLQ_MESSAGE: {"$ref": f"#/components/messages/{DLQ_MESSAGE}"}},
    }


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document: a channel and a send operation per catalogue topic."""
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in TOPICS:
        event_types = event_types_of(topic.name)
        for event_type in event_types:
            model = EVENT_TYPES[event_type]
            envelope = envelope_schema(model, ref_template=COMPONENT_REF)
            _merge_definitions(schemas, envelope.pop("$defs", {}))
            _merge_definitions(schemas, {event_type: envelope})
            messages[event_type] = _message(model)
        channels[topic.name] = _channel(topic, event_types)
        operations[f"{topic.name}.send"] = _operation(topic, event_types)
    messages[DLQ_MESSAGE] = _dead_letter_message()
    channels[DLQ_CHANNEL] = _dead_letter_channel()
    operations[f"{DLQ_CHANNEL}.send"] = {
        "action": "send",
        "channel": {"$ref": f"#/channels/{DLQ_CHANNEL}"},
        "title": "Consumers dead-letter what they cannot apply",
        "summary": "Every service's idempotent consumer, for its own group.",
        "messages": [{"$ref": f"#/channels/{DLQ_CHANNEL}/messages/{DLQ_MESSAGE}"}],
    }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:crm-erp:events",
        "info": {
            "title": "CRM + ERP business events",
            "version": DOCUMENT_VERSION,
            "description": _DESCRIPTION,
        },
        "defaultContentType": CLOUDEVENTS_CONTENT_TYPE,
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The embedded Kafka-protocol broker of `make run` (memory only).",
            },
            "production": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "description": "Apache Kafka; clients take KAFKA_BOOTSTRAP_SERVERS and the "
                "KAFKA_SECURITY_PROTOCOL / KAFKA_SASL_* settings (TLS, SASL).",
                "variables": {
                    "bootstrap": {
                        "default": "kafka:9092",
                        "description": "A bootstrap broker of the deployment's Kafka cluster.",
                    }
                },
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }
