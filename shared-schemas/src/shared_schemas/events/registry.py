"""The registry of event types: type string → contract model, checked against the catalogue."""

from __future__ import annotations

import re
from collections.abc import Iterable

from shared_schemas.events.base import EventData
from shared_schemas.events.catalogue import TOPIC_NAMES
from shared_schemas.events.crm import CRM_EVENTS
from shared_schemas.events.erp import ERP_EVENTS

TYPE_PATTERN = re.compile(
    r"^(?P<topic>[a-z]+\.[a-z_]+)\.(?P<name>[a-z_]+)\.v(?P<version>[1-9]\d*)$"
)
"""`<topic>.<name>.v<N>`, e.g. `crm.quote.accepted.v1` on topic `crm.quote`."""

TOPIC_EXCEPTIONS: dict[str, str] = {"erp.payment.received.v1": "erp.invoice"}
"""Types published on another topic than their name says (design.md §6): a payment is
keyed by its invoice so it stays in order with that invoice's events."""


class ContractError(ValueError):
    """The set of event contracts breaks a rule of the catalogue."""


class UnknownEventType(KeyError):
    """No contract is registered for this type string."""


def contract_problems(models: Iterable[type[EventData]]) -> list[str]:
    """Every rule the models break: unique, well-formed type strings on catalogued topics."""
    problems: list[str] = []
    seen: dict[str, type[EventData]] = {}
    for model in models:
        event_type = getattr(model, "event_type", None)
        topic = getattr(model, "topic", None)
        subject_field = getattr(model, "subject_field", None)
        if not isinstance(event_type, str) or not isinstance(topic, str):
            problems.append(f"{model.__qualname__}: event_type and topic must be set")
            continue
        if event_type in seen:
            problems.append(f"{event_type}: declared twice ({seen[event_type].__qualname__})")
        seen[event_type] = model
        match = TYPE_PATTERN.match(event_type)
        if match is None:
            problems.append(f"{event_type}: does not match <topic>.<name>.v<N>")
        elif TOPIC_EXCEPTIONS.get(event_type, match["topic"]) != topic:
            problems.append(f"{event_type}: published on {topic}, its name says otherwise")
        if topic not in TOPIC_NAMES:
            problems.append(f"{event_type}: topic {topic} is not in the catalogue")
        if subject_field not in model.model_fields:
            problems.append(f"{event_type}: subject_field {subject_field!r} is not a field")
        if not (model.__doc__ or "").strip():
            problems.append(f"{event_type}: needs a docstring (its schema description)")
    return problems


def build_registry(models: Iterable[type[EventData]]) -> dict[str, type[EventData]]:
    """The registry of `models` keyed by type string; ContractError if any rule is broken."""
    models = list(models)
    problems = contract_problems(models)
    if problems:
        raise ContractError("; ".join(problems))
    return {model.event_type: model for model in models}


EVENT_TYPES: dict[str, type[EventData]] = build_registry((*CRM_EVENTS, *ERP_EVENTS))
"""Every event type the platform publishes, keyed by its stable type string."""


def event_model(event_type: str) -> type[EventData]:
    """The contract of `event_type`; UnknownEventType if there is none."""
    try:
        return EVENT_TYPES[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def event_types_of(topic: str) -> list[str]:
    """The type strings published on `topic`, in declaration order."""
    return [name for name, model in EVENT_TYPES.items() if model.topic == topic]
