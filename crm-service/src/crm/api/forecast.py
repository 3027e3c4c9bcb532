"""`/forecast`: the weighted sales pipeline of a period, by owner or by stage."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from crm.api.deps import UnitOfWorkDep
from crm.domain.opportunities import Figures
from crm.service import forecast as forecasting
from shared_schemas.identity import Access, Authorize
from shared_schemas.money import Money

router = APIRouter(prefix="/forecast", tags=["opportunities"])

# Whoever reads opportunities reads the pipeline they add up to.
ReadAccess = Annotated[Access, Depends(Authorize("crm", "opportunities", "read"))]


class ForecastGroup(BaseModel):
    owner_id: uuid.UUID | None = Field(
        default=None, description="With group_by=owner: the owner (null: nobody owns them)."
    )
    stage: str | None = Field(default=None, description="With group_by=stage: the stage.")
    count: int
    amount: Money = Field(description="Σ amount.")
    weighted: Money = Field(description="Σ amount * probability / 100, rounded once.")


class ForecastOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "period": "2026-Q4",
                    "first_day": "2026-10-01",
                    "last_day": "2026-12-31",
                    "group_by": "stage",
                    "currency": "EUR",
                    "groups": [
                        {
                            "owner_id": None,
                            "stage": "proposal",
                            "count": 2,
                            "amount": "30000.00",
                            "weighted": "15000.00",
                        }
                    ],
                    "count": 2,
                    "amount": "30000.00",
                    "weighted": "15000.00",
                    "won_count": 1,
                    "won_amount": "8000.00",
                }
            ]
        }
    )

    period: str
    first_day: date
    last_day: date
    group_by: Literal["owner", "stage"]
    currency: str
    groups: list[ForecastGroup] = Field(
        description="By stage: every open stage in pipeline order; by owner: largest "
        "weighted amount first."
    )
    count: int = Field(description="Open opportunities expected to close in the period.")
    amount: Money
    weighted: Money = Field(description="Rounded once over all deals, not summed from groups.")
    won_count: int = Field(description="Opportunities won (closed_at) in the period.")
    won_amount: Money


def _group(key: object, figures: Figures) -> ForecastGroup:
    # Owners are employee ids, stages are names; a missing owner is None.
    return ForecastGroup(
        owner_id=key if isinstance(key, uuid.UUID) else None,
        stage=key if isinstance(key, str) else None,
        count=figures.count,
        amount=figures.amount,
        weighted=figures.weighted,
    )


@router.get("", summary="The weighted pipeline of a period")
async def get_forecast(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    period: Annotated[
        str | None,
        Query(
            max_length=10,
            description="`2026`, `2026-Q4` or `2026-11`; default: this quarter.",
            examples=["2026-Q4"],
        ),
    ] = None,
    group_by: Literal["owner", "stage"] = "stage",
    owner_id: Annotated[
        list[uuid.UUID] | None,
        Query(description="Only the deals these employees own. May repeat."),
    ] = None,
) -> ForecastOut:
    result = await forecasting.forecast(uow, period, group_by, owner_id or [])
    groups = [_group(key, figures) for key, figures in result.groups.items()]
    if group_by == "owner":
        groups.sort(key=lambda g: (-g.weighted, -g.amount, str(g.owner_id or "")))
    return ForecastOut(
        period=result.period.name,
        first_day=result.period.first_day,
        last_day=result.period.last_day,
        group_by=group_by,
        currency=result.currency,
        groups=groups,
        count=result.total.count,
        amount=result.total.amount,
        weighted=result.total.weighted,
        won_count=result.won_count,
        won_amount=result.won_amount,
    )
