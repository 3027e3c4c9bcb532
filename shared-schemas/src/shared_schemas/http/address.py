"""A postal address as a request gives it (a customer's, a warehouse's): each line of a
bounded length and no member but these. Stored and published as the events' `Address`."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from shared_schemas.events.values import Address


class PostalAddress(Address):
    """An address whose lines fit every event that carries it; an unknown member (`zip`)
    is refused rather than dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    street: str = Field(max_length=200, description="Street and house number.")
    street2: str | None = Field(
        default=None, max_length=200, description="Second address line, if any."
    )
    postal_code: str | None = Field(default=None, max_length=20)
    city: str = Field(max_length=100)
    region: str | None = Field(
        default=None, max_length=100, description="State, province or county."
    )
