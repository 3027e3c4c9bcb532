"""Contracts of the crm.inquiry topic: support cases opened and resolved."""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from shared_schemas.events.base import EventData

InquiryStatus = Literal["new", "open", "pending", "resolved", "closed"]


class InquiryEvent(EventData):
    """Fields every inquiry event carries."""

    topic: ClassVar[str] = "crm.inquiry"
    subject_field: ClassVar[str] = "inquiry_id"

    inquiry_id: uuid.UUID
    customer_id: uuid.UUID
    order_id: uuid.UUID | None = Field(description="The ERP order it is about, if any.")
    assignee_id: uuid.UUID | None = Field(description="The support agent (an ERP employee id).")
    channel: str = Field(description="How it came in.", examples=["email", "phone", "web"])
    subject: str = Field(description="The inquiry's subject line.")
    priority: str = Field(examples=["low", "normal", "high", "urgent"])
    status: InquiryStatus
    sla_due_at: AwareDatetime | None = Field(description="When it must be resolved by.")


class InquiryOpened(InquiryEvent):
    """A support case was opened for a customer."""

    event_type: ClassVar[str] = "crm.inquiry.opened.v1"

    status: Literal["new", "open"]


class InquiryResolved(InquiryEvent):
    """A support case was resolved."""

    event_type: ClassVar[str] = "crm.inquiry.resolved.v1"

    status: Literal["resolved"] = "resolved"
    previous_status: Literal["new", "open", "pending"]
    resolved_at: AwareDatetime
    resolution: str | None = Field(default=None, description="How it was resolved.")
