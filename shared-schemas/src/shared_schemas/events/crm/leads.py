"""Contracts of the crm.lead topic: leads created, qualified, converted, disqualified."""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from pydantic import Field

from shared_schemas.events.base import EventData

LeadStatus = Literal["new", "contacted", "qualified", "converted", "disqualified"]
OpenLeadStatus = Literal["new", "contacted", "qualified"]


class LeadEvent(EventData):
    """Fields every lead event carries."""

    topic: ClassVar[str] = "crm.lead"
    subject_field: ClassVar[str] = "lead_id"

    lead_id: uuid.UUID
    owner_id: uuid.UUID | None = Field(description="The owning sales rep (an ERP employee id).")


class LeadCreated(LeadEvent):
    """A lead was captured."""

    event_type: ClassVar[str] = "crm.lead.created.v1"

    name: str = Field(min_length=1, description="The person the lead is about.")
    company_name: str | None = None
    email: str | None = None
    phone: str | None = None
    source: str | None = Field(default=None, description="Where it came from, e.g. web, referral.")
    status: LeadStatus


class LeadQualified(LeadEvent):
    """A lead was qualified: worth converting into a customer and an opportunity."""

    event_type: ClassVar[str] = "crm.lead.qualified.v1"

    previous_status: OpenLeadStatus


class LeadConverted(LeadEvent):
    """A lead was converted: it created or was linked to a customer, and maybe an opportunity."""

    event_type: ClassVar[str] = "crm.lead.converted.v1"

    previous_status: OpenLeadStatus
    customer_id: uuid.UUID = Field(description="The customer the lead became or was linked to.")
    customer_created: bool = Field(
        description="True when the conversion created the customer, false when it linked one."
    )
    opportunity_id: uuid.UUID | None = Field(
        description="The opportunity the conversion created; null when none was asked for."
    )


class LeadDisqualified(LeadEvent):
    """A lead was disqualified, with the reason."""

    event_type: ClassVar[str] = "crm.lead.disqualified.v1"

    previous_status: OpenLeadStatus
    reason: str = Field(min_length=1)
