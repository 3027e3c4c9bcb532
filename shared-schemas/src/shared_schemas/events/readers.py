"""Who may read which event: each event type belongs to one (service, resource) of the
permission table, and a role reads the events of the resources it may read.

The live event stream and anything else that shows events to people filters with this,
so an event is never visible to a role that could not read the record it is about.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared_schemas.events.registry import EVENT_TYPES
from shared_schemas.permissions import Scope, allowed_scope
from shared_schemas.roles import Role

TOPIC_RESOURCES: dict[str, tuple[str, str]] = {
    "crm.customer": ("crm", "customers"),
    "crm.lead": ("crm", "leads"),
    "crm.opportunity": ("crm", "opportunities"),
    "crm.quote": ("crm", "quotes"),
    "crm.inquiry": ("crm", "inquiries"),
    "erp.product": ("erp", "products"),
    # Shipments are announced as order events (`erp.order.shipped.v1`, keyed by the order):
    # they follow reading orders, the aggregate they are about.
    "erp.order": ("erp", "orders"),
    "erp.stock": ("erp", "stock"),
    "erp.invoice": ("erp", "invoices"),
    "erp.employee": ("erp", "employees"),
}
"""The resource the events of each topic are about."""

TYPE_RESOURCES: dict[str, tuple[str, str]] = {
    # Keyed by its invoice to stay in order with it, but it is a payment.
    "erp.payment.received.v1": ("erp", "payments"),
}
"""Event types whose resource is not their topic's."""


def event_resource(event_type: str) -> tuple[str, str]:
    """The (service, resource) an event type is about; KeyError for an unknown type."""
    resource = TYPE_RESOURCES.get(event_type)
    if resource is not None:
        return resource
    return TOPIC_RESOURCES[EVENT_TYPES[event_type].topic]


def may_read_event(roles: Iterable[Role], event_type: str) -> bool:
    """Whether `roles` may read every record of the event's resource.

    Only a read of all records counts: an event cannot be filtered by its record's owner
    here, so a role that reads only its own records of a resource sees none of its events.
    """
    service, resource = event_resource(event_type)
    return allowed_scope(roles, service, resource, "read") is Scope.ALL


def readable_event_types(roles: Iterable[Role]) -> frozenset[str]:
    """Every catalogued event type `roles` may read."""
    roles = frozenset(roles)
    return frozenset(name for name in EVENT_TYPES if may_read_event(roles, name))
