"""Value objects nested in event data: addresses, field changes, the customer snapshot."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, WithJsonSchema

from shared_schemas.events.base import Money, Percent

Amount = Annotated[
    Money,
    Field(ge=0),
    WithJsonSchema({"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["1250.00"]}),
]
"""An amount of money that cannot be negative (a price, a total, a payment)."""

Percentage = Annotated[
    Percent,
    Field(ge=0, le=100),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(100(\.0+)?|\d{1,2}(\.\d+)?)$",
            "description": 'A percent from 0 to 100 as a decimal string ("19", "7.5").',
            "examples": ["19"],
        }
    ),
]
"""A share in percent from 0 to 100 (a discount, a tax rate, a probability)."""

Quantity = Annotated[int, Field(ge=1)]
"""A count of units on a document line; zero-quantity lines do not exist."""

StockCount = Annotated[int, Field(ge=0)]
"""Units in a stock level: on hand, reserved or available, never below zero."""

CustomerKind = Literal["company", "person"]


class EventValue(BaseModel):
    """A value nested inside event data.

    Frozen, and tolerant of unknown fields like `EventData`, so an additive change to a
    nested value never breaks a consumer either.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)


class Address(EventValue):
    """A postal address as kept on a customer (billing or shipping)."""

    street: str = Field(description="Street and house number.")
    street2: str | None = Field(default=None, description="Second address line, if any.")
    postal_code: str | None = None
    city: str
    region: str | None = Field(default=None, description="State, province or county.")
    country: str = Field(
        pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code.", examples=["DE"]
    )


class FieldChange(EventValue):
    """One field changed by an update, with its JSON values before and after."""

    field: str = Field(min_length=1, description="The changed field's name in the event data.")
    before: JsonValue = Field(description="The JSON value before the change (null if unset).")
    after: JsonValue = Field(description="The JSON value after the change (null if cleared).")


class CustomerSnapshot(EventValue):
    """The customer as CRM knew it when the event was recorded.

    Carried by documents so ERP can act even when the customer's own events have not
    arrived yet; `version` lets ERP's replica keep whichever state is newer.
    """

    id: uuid.UUID
    version: int = Field(ge=1, description="The customer's version this snapshot shows.")
    kind: CustomerKind
    name: str
    email: str | None = None
    phone: str | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    credit_limit: Amount | None = Field(
        description="In the company currency; null means no limit is set."
    )
    payment_terms_days: int = Field(ge=0, description="Days from invoice to due date.")
