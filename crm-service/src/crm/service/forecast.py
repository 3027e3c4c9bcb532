"""The weighted pipeline of a period: open deals expected to close in it, and deals won in it."""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from crm.adapters.pipeline import Opportunity
from crm.domain.opportunities import (
    OPEN_STAGES,
    Deal,
    Figures,
    Period,
    parse_period,
    quarter_of,
    weighted_pipeline,
)
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.database import READ_ONLY
from shared_schemas.money import ZERO, cents

GroupBy = Literal["owner", "stage"]


@dataclass(frozen=True)
class Forecast:
    period: Period
    group_by: GroupBy
    currency: str
    groups: dict[Hashable, Figures]
    total: Figures
    won_count: int
    won_amount: Decimal


async def forecast(
    uow: UnitOfWork,
    period: str | None,
    group_by: GroupBy,
    owner_ids: Sequence[uuid.UUID] = (),
) -> Forecast:
    """Open deals whose expected close date falls in `period` (default: this quarter in the
    company's time zone), grouped by owner or stage, plus the deals won in it: those whose
    `closed_at` falls in the period, in the company's time zone. `owner_ids`, when given,
    counts only the deals those employees own."""
    zone = uow.settings.company.zone
    currency = uow.settings.company.currency
    chosen = parse_period(period) if period else quarter_of(uow.now().astimezone(zone).date())
    group_column = Opportunity.owner_id if group_by == "owner" else Opportunity.stage
    owned = [Opportunity.owner_id.in_(owner_ids)] if owner_ids else []
    async with uow:
        connection = await uow.session.connection(execution_options=READ_ONLY)
        rows = await connection.execute(
            select(group_column, Opportunity.amount, Opportunity.probability).where(
                Opportunity.stage.in_(OPEN_STAGES),
                Opportunity.currency == currency,
                Opportunity.expected_close_date >= chosen.first_day,
                Opportunity.expected_close_date <= chosen.last_day,
                *owned,
            )
        )
        # Sums in Python: SQLite would add the amounts as floats.
        deals = [Deal(group, Decimal(amount), probability) for group, amount, probability in rows]
        closed_in_period = [
            Opportunity.closed_at >= _start_of(chosen.first_day, zone),
            *(
                []
                if chosen.day_after is None
                else [Opportunity.closed_at < _start_of(chosen.day_after, zone)]
            ),
        ]
        won = await connection.execute(
            select(Opportunity.amount).where(
                Opportunity.stage == "won",
                Opportunity.currency == currency,
                *closed_in_period,
                *owned,
            )
        )
        won_amounts = [Decimal(amount) for (amount,) in won]
    groups, total = weighted_pipeline(deals, OPEN_STAGES if group_by == "stage" else ())
    return Forecast(
        period=chosen,
        group_by=group_by,
        currency=currency,
        groups=groups,
        total=total,
        won_count=len(won_amounts),
        won_amount=cents(sum(won_amounts, ZERO)),
    )


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    """Midnight of `day` in the zone, as a UTC instant (the calendar's first midnight east
    of UTC falls before the first instant there is: that instant then)."""
    try:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)
