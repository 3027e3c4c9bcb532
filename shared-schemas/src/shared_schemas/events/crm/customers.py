"""Contracts of the crm.customer topic: customers created, updated (full state), archived."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import Field, JsonValue

from shared_schemas.events.base import EventData
from shared_schemas.events.values import Address, Amount, CustomerKind, FieldChange


class CustomerEvent(EventData):
    """Fields every customer event carries."""

    topic: ClassVar[str] = "crm.customer"
    subject_field: ClassVar[str] = "customer_id"

    customer_id: uuid.UUID


class CustomerState(CustomerEvent):
    """The customer's full current state, so a replica that drops stale versions loses nothing.

    Contacts are not replicated: no other service needs them.
    """

    kind: CustomerKind
    name: str = Field(min_length=1)
    email: str | None = None
    phone: str | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    industry: str | None = None
    owner_id: uuid.UUID | None = Field(description="The owning sales rep (an ERP employee id).")
    credit_limit: Amount | None = Field(
        description="In the company currency; null means no limit is set."
    )
    payment_terms_days: int = Field(ge=0, description="Days from invoice to due date.")
    tags: list[str] = Field(default_factory=list)
    custom_fields: dict[str, JsonValue] = Field(default_factory=dict)
    archived: bool = False


class CustomerCreated(CustomerState):
    """A customer (company or person) was created in CRM; its full state."""

    event_type: ClassVar[str] = "crm.customer.created.v1"


class CustomerUpdated(CustomerState):
    """A customer was changed: its full current state plus each changed field."""

    event_type: ClassVar[str] = "crm.customer.updated.v1"

    changes: list[FieldChange] = Field(
        description="The fields this update changed, with their values before and after."
    )


class CustomerArchived(CustomerEvent):
    """A customer was archived: kept for history, no longer offered for new documents."""

    event_type: ClassVar[str] = "crm.customer.archived.v1"
