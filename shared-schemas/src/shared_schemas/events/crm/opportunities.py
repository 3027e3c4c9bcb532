"""Contracts of the crm.opportunity topic: stage changes, won, lost."""

from __future__ import annotations

import uuid
from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from shared_schemas.events.base import Currency, EventData
from shared_schemas.events.values import Amount, Percentage

OpenStage = Literal["prospecting", "qualification", "proposal", "negotiation"]
OpportunityStage = Literal["prospecting", "qualification", "proposal", "negotiation", "won", "lost"]


class OpportunityEvent(EventData):
    """Fields every opportunity event carries: enough to keep a weighted pipeline."""

    topic: ClassVar[str] = "crm.opportunity"
    subject_field: ClassVar[str] = "opportunity_id"

    opportunity_id: uuid.UUID
    name: str
    customer_id: uuid.UUID | None
    owner_id: uuid.UUID | None = Field(description="The owning sales rep (an ERP employee id).")
    amount: Amount = Field(description="Expected revenue, in `currency`.")
    currency: Currency
    probability: Percentage = Field(description="Chance of winning in percent.")
    expected_close_date: date | None
    stage: OpportunityStage
    previous_stage: OpportunityStage


class OpportunityStageChanged(OpportunityEvent):
    """An opportunity moved between open pipeline stages."""

    event_type: ClassVar[str] = "crm.opportunity.stage_changed.v1"

    stage: OpenStage
    previous_stage: OpenStage


class OpportunityWon(OpportunityEvent):
    """An opportunity was won, by hand or by its quote being accepted."""

    event_type: ClassVar[str] = "crm.opportunity.won.v1"

    stage: Literal["won"] = "won"
    previous_stage: OpenStage
    quote_id: uuid.UUID | None = Field(
        default=None, description="The accepted quote that won it, if any."
    )


class OpportunityLost(OpportunityEvent):
    """An opportunity was lost."""

    event_type: ClassVar[str] = "crm.opportunity.lost.v1"

    stage: Literal["lost"] = "lost"
    previous_stage: OpenStage
    reason: str | None = Field(default=None, description="Why it was lost, as recorded.")
