"""Group commit: concurrent submissions share a write; failures stay with their item."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from shared_schemas.batching import GroupCommit

pytestmark = pytest.mark.unit


class Ledger:
    """A stand-in writer that records each batch it was asked to write."""

    def __init__(self, poison: set[int] | None = None) -> None:
        self.batches: list[list[int]] = []
        self.poison = poison or set()

    async def write(self, items: Sequence[int]) -> Sequence[int | BaseException]:
        self.batches.append(list(items))
        await asyncio.sleep(0)  # a write takes a moment: others arrive meanwhile
        if self.poison & set(items):
            raise RuntimeError(f"cannot write {sorted(self.poison & set(items))}")
        return [item * 10 if item >= 0 else ValueError(f"refused {item}") for item in items]


async def test_a_lone_request_is_written_alone_and_at_once() -> None:
    ledger = Ledger()
    assert await GroupCommit(ledger.write).submit(1) == 10
    assert ledger.batches == [[1]]


async def test_requests_arriving_during_a_write_share_the_next_one() -> None:
    ledger = Ledger()
    writer = GroupCommit(ledger.write, max_batch=8)
    results = await asyncio.gather(*(writer.submit(n) for n in range(20)))
    assert results == [n * 10 for n in range(20)]
    assert all(len(batch) <= 8 for batch in ledger.batches)
    assert len(ledger.batches) < 20, "concurrent requests were not grouped"
    assert sorted(n for batch in ledger.batches for n in batch) == list(range(20))


async def test_an_item_refused_by_the_writer_fails_alone() -> None:
    writer = GroupCommit(Ledger().write)
    results = await asyncio.gather(*(writer.submit(n) for n in (1, -2, 3)), return_exceptions=True)
    assert results[0] == 10
    assert isinstance(results[1], ValueError)
    assert str(results[1]) == "refused -2"
    assert results[2] == 30


async def test_a_batch_that_fails_as_a_whole_is_retried_item_by_item() -> None:
    ledger = Ledger(poison={13})
    writer = GroupCommit(ledger.write)
    results = await asyncio.gather(
        *(writer.submit(n) for n in (11, 12, 13, 14)), return_exceptions=True
    )
    assert [r if not isinstance(r, Exception) else repr(r) for r in results] == [
        110,
        120,
        "RuntimeError('cannot write [13]')",
        140,
    ]
    assert [13] in ledger.batches, "the poison was isolated"
