"""The CloudEvents 1.0 envelope and the value types every event contract is built from."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared_schemas.money import Currency, Money, Percent

CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json"

__all__ = ["Currency", "Money", "Percent"]  # value types, re-exported from shared_schemas.money


class EventData(BaseModel):
    """The `data` of one event type.

    Subclasses set `event_type` (the stable wire name, e.g. `crm.quote.accepted.v1`),
    `topic` and `subject_field` (the field holding the aggregate id, used as the Kafka key).
    Unknown fields are ignored so that additive changes never break a consumer.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    topic: ClassVar[str]
    subject_field: ClassVar[str]

    version: int = Field(ge=1, description="The aggregate's version after this change.")

    def aggregate_id(self) -> str:
        """The aggregate id: the CloudEvent `subject` and the Kafka key."""
        return str(getattr(self, self.subject_field))


DataT = TypeVar("DataT")


class CloudEvent(BaseModel, Generic[DataT]):
    """A CloudEvents 1.0 document in structured JSON mode, with this platform's extensions."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    data: DataT
    correlationid: str | None = None
    causationid: str | None = None
    actor: str = Field(min_length=1)


def new_event(
    data: EventData,
    *,
    source: str,
    actor: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    event_id: uuid.UUID | None = None,
    time: datetime | None = None,
) -> CloudEvent[Any]:
    """Wrap `data` in a fresh envelope whose type and subject come from the contract."""
    return CloudEvent[Any](
        id=event_id or uuid.uuid4(),
        source=source,
        type=data.event_type,
        subject=data.aggregate_id(),
        time=time or datetime.now(UTC),
        data=data,
        correlationid=correlation_id,
        causationid=causation_id,
        actor=actor,
    )
