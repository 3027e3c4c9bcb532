"""Which sent events the relay marks published: per aggregate, only an unbroken prefix."""

from __future__ import annotations

import uuid

import pytest

from shared_schemas.messaging.relay import PendingEvent, acknowledged_in_key_order

pytestmark = pytest.mark.unit


def event(row_id: int, key: str, topic: str = "erp.orders") -> PendingEvent:
    return PendingEvent(row_id, uuid.uuid4(), topic, key, b"{}", {})


def test_a_failed_event_holds_back_the_later_events_of_its_key_only() -> None:
    rows = [event(1, "a"), event(2, "b"), event(3, "a"), event(4, "b"), event(5, "c")]
    marked = acknowledged_in_key_order(rows, [False, True, True, True, True])
    assert [row.id for row in marked] == [2, 4, 5]


def test_the_same_key_on_another_topic_is_another_aggregate() -> None:
    rows = [event(1, "a", "crm.quotes"), event(2, "a", "erp.orders")]
    marked = acknowledged_in_key_order(rows, [False, True])
    assert [row.id for row in marked] == [2]


def test_events_never_sent_count_as_not_delivered() -> None:
    rows = [event(1, "a"), event(2, "b"), event(3, "a")]
    # The send of row 2 was refused: rows 2 and 3 have no delivery at all.
    marked = acknowledged_in_key_order(rows, [True])
    assert [row.id for row in marked] == [1]


def test_all_delivered_are_all_marked() -> None:
    rows = [event(n, str(n % 3)) for n in range(10)]
    assert acknowledged_in_key_order(rows, [True] * 10) == rows
