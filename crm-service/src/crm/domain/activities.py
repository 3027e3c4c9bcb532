"""Activities: their kinds, the one record each is about, and where it happened."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shared_schemas.domain import RuleViolation

KINDS = ("call", "email", "meeting", "note", "visit")

TARGETS = ("customer_id", "lead_id", "opportunity_id")
"""The fields naming what an activity is about; exactly one is set."""

TIMELINE_PREFIX = "activity"

_GEO_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class Target:
    field: str
    record_id: uuid.UUID

    @property
    def entity(self) -> str:
        return self.field.removesuffix("_id")


def target_of(values: Mapping[str, Any]) -> Target:
    """The one record an activity is about; RuleViolation unless exactly one is named."""
    named = [field for field in TARGETS if values.get(field) is not None]
    if len(named) != 1:
        message = "name exactly one of customer_id, lead_id, opportunity_id"
        fields = named or list(TARGETS)
        raise RuleViolation(
            "An activity is about exactly one customer, lead or opportunity.",
            [{"field": field, "message": message} for field in fields],
        )
    field = named[0]
    return Target(field, uuid.UUID(str(values[field])))


@dataclass(frozen=True)
class GeoPoint:
    latitude: Decimal
    longitude: Decimal

    @classmethod
    def of(cls, latitude: float | Decimal, longitude: float | Decimal) -> GeoPoint:
        """A point stored to six decimals (about 10 cm); RuleViolation outside the globe."""
        lat = Decimal(str(latitude)).quantize(_GEO_PLACES, ROUND_HALF_UP)
        lon = Decimal(str(longitude)).quantize(_GEO_PLACES, ROUND_HALF_UP)
        errors = []
        if not -90 <= lat <= 90:
            errors.append({"field": "location.latitude", "message": "between -90 and 90"})
        if not -180 <= lon <= 180:
            errors.append({"field": "location.longitude", "message": "between -180 and 180"})
        if errors:
            raise RuleViolation("The location is not a point on Earth.", errors)
        return cls(lat, lon)


def timeline_kind(kind: str) -> str:
    """How an activity of `kind` is named on a customer's timeline (`activity.call`)."""
    return f"{TIMELINE_PREFIX}.{kind}"
