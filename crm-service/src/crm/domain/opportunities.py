"""Opportunities: pipeline stages, probabilities per stage, forecast periods and figures."""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from shared_schemas.domain import RuleViolation, StateMachine
from shared_schemas.money import HUNDRED, ZERO, cents

OPEN_STAGES = ("prospecting", "qualification", "proposal", "negotiation")
CLOSED_STAGES = ("won", "lost")
STAGES = OPEN_STAGES + CLOSED_STAGES

STAGE_PROBABILITY = {
    "prospecting": 10,
    "qualification": 20,
    "proposal": 50,
    "negotiation": 75,
    "won": 100,
    "lost": 0,
}
"""The chance of winning an opportunity in each stage unless someone says otherwise."""

# Among the open stages a deal moves freely, forward or back (the action is the target
# stage); `win` and `lose` close it for good.
PIPELINE = StateMachine(
    "opportunity",
    {
        stage: {
            **{target: target for target in OPEN_STAGES if target != stage},
            "win": "won",
            "lose": "lost",
        }
        for stage in OPEN_STAGES
    }
    | {"won": {}, "lost": {}},
    {stage: f"move to {stage}" for stage in OPEN_STAGES},
)


def probability_for(stage: str, requested: int | None) -> int:
    """The probability a deal gets on entering `stage`: the one asked for, else the
    stage's default (a closed deal's is fixed: won 100, lost 0)."""
    if stage in CLOSED_STAGES or requested is None:
        return STAGE_PROBABILITY[stage]
    return requested


@dataclass(frozen=True)
class Period:
    """A forecast period: a year, a quarter or a month, by its first and last day."""

    name: str
    first_day: date
    last_day: date

    @property
    def day_after(self) -> date | None:
        """The first day after the period; None for a period ending with the calendar."""
        return None if self.last_day == date.max else self.last_day + timedelta(days=1)


_YEAR = re.compile(r"^([0-9]{4})$")
_QUARTER = re.compile(r"^([0-9]{4})-[Qq]([1-4])$")
_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def _months(year: int, first_month: int, count: int, name: str) -> Period:
    last_month = first_month + count - 1
    # From the month's length, not the next month's first day: 9999-12 has none.
    last_day = date(year, last_month, monthrange(year, last_month)[1])
    return Period(name, date(year, first_month, 1), last_day)


def parse_period(text: str) -> Period:
    """`2026`, `2026-Q4` or `2026-11`; anything else is a 422 on `period`."""
    value = text.strip()
    if match := _YEAR.match(value):
        year = int(match[1])
        if year >= 1:
            return _months(year, 1, 12, f"{year:04d}")
    elif match := _QUARTER.match(value):
        year, quarter = int(match[1]), int(match[2])
        if year >= 1:
            return _months(year, 3 * quarter - 2, 3, f"{year:04d}-Q{quarter}")
    elif match := _MONTH.match(value):
        year, month = int(match[1]), int(match[2])
        if year >= 1:
            return _months(year, month, 1, f"{year:04d}-{month:02d}")
    raise RuleViolation(
        f"{text!r} is not a period.",
        [
            {
                "field": "query.period",
                "message": "a year (2026), quarter (2026-Q4) or month (2026-11)",
            }
        ],
    )


def quarter_of(day: date) -> Period:
    return parse_period(f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}")


@dataclass(frozen=True)
class Deal:
    """What the forecast needs of one open opportunity."""

    group: Hashable
    amount: Decimal
    probability: int


@dataclass(frozen=True)
class Figures:
    count: int
    amount: Decimal
    weighted: Decimal


@dataclass
class _Tally:
    count: int = 0
    amount: Decimal = ZERO
    # Unrounded: a total is rounded once, not summed from rounded parts.
    weighted: Decimal = ZERO

    def add(self, deal: Deal) -> None:
        self.count += 1
        self.amount += deal.amount
        self.weighted += deal.amount * deal.probability / HUNDRED

    def figures(self) -> Figures:
        return Figures(self.count, cents(self.amount), cents(self.weighted))


def weighted_pipeline(
    deals: Iterable[Deal], always: Sequence[Hashable] = ()
) -> tuple[dict[Hashable, Figures], Figures]:
    """Count, amount and weighted amount (Σ amount * probability / 100, rounded half up
    to cents per total) per group and overall. Groups in `always` appear even if empty."""
    groups: dict[Hashable, _Tally] = {group: _Tally() for group in always}
    overall = _Tally()
    for deal in deals:
        groups.setdefault(deal.group, _Tally()).add(deal)
        overall.add(deal)
    return {group: tally.figures() for group, tally in groups.items()}, overall.figures()
