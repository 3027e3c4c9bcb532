"""Group commit for hot write paths: requests that arrive while a write is in flight share
the next transaction, so each pays a share of its round trips instead of all of them.

Nothing waits on purpose: the first request is written at once, alone; those arriving
meanwhile form the next batch. Under load batches grow by themselves, at low load a batch
is one request and costs nothing extra.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

Work = Callable[[Sequence[ItemT]], Awaitable[Sequence[ResultT | BaseException]]]
"""Writes a batch in one transaction; one result or one exception per item, in order."""


class GroupCommit(Generic[ItemT, ResultT]):
    def __init__(self, work: Work[ItemT, ResultT], *, max_batch: int = 64) -> None:
        self.work = work
        self.max_batch = max_batch
        self._waiting: list[tuple[ItemT, asyncio.Future[ResultT]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: ItemT) -> ResultT:
        """The item's result once its batch committed (or the exception for this item)."""
        future: asyncio.Future[ResultT] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None or self._writer.done():
            # A batch serves many requests, so it runs in none's context: each item
            # carries what it needs of its request (who asks, correlation, its key).
            self._writer = asyncio.create_task(self._write_all(), context=contextvars.Context())
        return await future

    async def _write_all(self) -> None:
        while self._waiting:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            results = await self._write([item for item, _ in batch])
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue  # its request went away; the write stands regardless
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def _write(self, items: list[ItemT]) -> Sequence[ResultT | BaseException]:
        try:
            return await self.work(items)
        except Exception as exc:
            if len(items) == 1:
                return [exc]
        # The batch as a whole failed and nothing of it was committed: write each item
        # alone, so only the one that causes the failure (if any) reports it.
        results: list[ResultT | BaseException] = []
        for item in items:
            try:
                results.extend(await self.work([item]))
            except Exception as exc:
                results.append(exc)
        return results
