"""Contracts of the crm.customer topic: customers created, updated, archived (full state)."""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from pydantic import Field, JsonValue, model_validator

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
    """A customer was archived: kept for history, no longer offered for new documents.

    Carries the customer's full state, `archived` true, like the other customer events.
    The state was added to v1 as optional fields: archive events published before hold
    only `customer_id` and `version`, and a null `name` marks one of those.
    """

    event_type: ClassVar[str] = "crm.customer.archived.v1"

    kind: CustomerKind | None = None
    name: str | None = Field(default=None, min_length=1)
    email: str | None = None
    phone: str | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    industry: str | None = None
    owner_id: uuid.UUID | None = Field(
        default=None, description="The owning sales rep (an ERP employee id)."
    )
    credit_limit: Amount | None = Field(
        default=None, description="In the company currency; null means no limit is set."
    )
    payment_terms_days: int | None = Field(
        default=None, ge=0, description="Days from invoice to due date."
    )
    tags: list[str] | None = None
    custom_fields: dict[str, JsonValue] | None = None
    archived: Literal[True] = True

    @model_validator(mode="after")
    def _state_whole_or_absent(self) -> CustomerArchived:
        required = (self.kind, self.name, self.payment_terms_days)
        if any(value is None for value in required) and any(
            value is not None for value in required
        ):
            raise ValueError("kind, name and payment_terms_days come together or not at all")
        return self

    @property
    def carries_state(self) -> bool:
        """Whether the event holds the customer's state (every archive published since
        archive events carry it), not only its id and version."""
        return self.name is not None
