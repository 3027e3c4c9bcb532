"""The webhook retry schedule: waits grow exponentially up to an hour, each drawn with full
jitter under its ceiling (never under a second), and a failing delivery keeps being tried
for its whole retry window (at least 24 hours), the last attempt at the window's end."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from gateway.domain import webhooks
from gateway.domain.webhooks import (
    FIRST_RETRY,
    LONGEST_RETRY,
    SHORTEST_RETRY,
    next_attempt_at,
    retry_delay,
)

pytestmark = pytest.mark.unit


def highest(_: float, high: float) -> float:
    return high


def lowest(low: float, _: float) -> float:
    return low


def test_the_ceiling_doubles_from_ten_seconds_up_to_an_hour() -> None:
    ceilings = [retry_delay(attempts, highest) for attempts in range(1, 30)]
    assert ceilings[:4] == [FIRST_RETRY * factor for factor in (1, 2, 4, 8)]
    assert all(a <= b for a, b in itertools.pairwise(ceilings)), "never shrinks"
    assert max(ceilings) == LONGEST_RETRY
    assert ceilings[-1] == LONGEST_RETRY


def test_every_wait_is_drawn_between_a_second_and_its_ceiling() -> None:
    for attempts in range(1, 30):
        ceiling = retry_delay(attempts, highest)
        asked: list[tuple[float, float]] = []

        def record(low: float, high: float, asked: list[tuple[float, float]] = asked) -> float:
            asked.append((low, high))
            return (low + high) / 2

        assert retry_delay(attempts, record) == ceiling / 2
        # Full jitter: the whole range from zero, so retries that failed together spread.
        assert asked == [(0, ceiling.total_seconds())]
        assert retry_delay(attempts, lowest) == SHORTEST_RETRY


@pytest.mark.parametrize("draw", [highest, lowest])
def test_a_failing_delivery_is_retried_for_its_whole_window(
    draw: Callable[[float, float], float], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The longest and the shortest waits the jitter may draw, every time.
    monkeypatch.setattr(webhooks, "retry_delay", partial(retry_delay, uniform=draw))
    queued = datetime(2026, 3, 1, tzinfo=UTC)
    window = timedelta(hours=25)
    now, attempts, times = queued, 1, [queued]
    while (
        retry := next_attempt_at(now, queued_at=queued, attempts=attempts, retry_window=window)
    ) is not None:
        assert retry > now
        assert retry - now <= LONGEST_RETRY
        now, attempts = retry, attempts + 1
        times.append(now)
    assert times[-1] == queued + window, "the last attempt is at the window's end"
    assert times[-1] - times[0] >= timedelta(hours=24)
    assert all(b - a <= LONGEST_RETRY for a, b in itertools.pairwise(times))
