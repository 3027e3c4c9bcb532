"""Contracts of the crm.quote topic: quotes sent, accepted (with a customer snapshot), ..."""

from __future__ import annotations

import uuid
from datetime import date
from typing import ClassVar, Self

from pydantic import Field, model_validator

from shared_schemas.events.base import EventData
from shared_schemas.events.documents import DocumentTotals, QuoteLine, check_lines_add_up
from shared_schemas.events.values import CustomerSnapshot


class QuoteEvent(EventData):
    """Fields every quote event carries."""

    topic: ClassVar[str] = "crm.quote"
    subject_field: ClassVar[str] = "quote_id"

    quote_id: uuid.UUID
    number: str = Field(description="Human quote number.", examples=["Q-2026-000123"])
    customer_id: uuid.UUID
    opportunity_id: uuid.UUID | None
    owner_id: uuid.UUID | None = Field(description="The owning sales rep (an ERP employee id).")


class QuoteSent(QuoteEvent, DocumentTotals):
    """A quote was sent to the customer."""

    event_type: ClassVar[str] = "crm.quote.sent.v1"

    valid_until: date


class QuoteAccepted(QuoteEvent, DocumentTotals):
    """A quote was accepted: everything ERP needs to create the order, customer included."""

    event_type: ClassVar[str] = "crm.quote.accepted.v1"

    valid_until: date
    lines: list[QuoteLine] = Field(min_length=1)
    customer: CustomerSnapshot = Field(
        description="The customer with addresses and credit terms, so ERP can create the "
        "order before (or without) the customer's own events."
    )

    @model_validator(mode="after")
    def _lines_add_up(self) -> Self:
        check_lines_add_up(self.lines, self)
        if self.customer.id != self.customer_id:
            raise ValueError("customer.id must equal customer_id")
        return self


class QuoteRejected(QuoteEvent):
    """The customer rejected a quote."""

    event_type: ClassVar[str] = "crm.quote.rejected.v1"

    reason: str | None = None


class QuoteExpired(QuoteEvent):
    """A sent quote passed its valid_until date unanswered."""

    event_type: ClassVar[str] = "crm.quote.expired.v1"

    valid_until: date
