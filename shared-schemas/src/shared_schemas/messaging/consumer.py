"""The idempotent consumer: inbox and effect in one transaction, offsets committed after.

Failures are retried with backoff; a message that still fails after `max_attempts`, or
that cannot be parsed or validated at all, goes to `dlq.<group>` with its error and the
consumer moves on. Database outages are not the message's fault: they are retried until
the database is back, never dead-lettered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import (
    CommitFailedError,
    IllegalStateError,
    KafkaError,
    MessageSizeTooLargeError,
)
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared_schemas.database import is_database_outage
from shared_schemas.events.base import CloudEvent, EventData
from shared_schemas.events.catalogue import dlq_topic
from shared_schemas.messaging.applier import EventApplier, Handler, Outcome, Unusable, describe
from shared_schemas.messaging.backoff import Backoff
from shared_schemas.messaging.dead_letters import DeadLetter, DeadLetterLog
from shared_schemas.messaging.kafka import KafkaSettings, TopicsMissing, missing_topics
from shared_schemas.messaging.lifecycle import stop_clients
from shared_schemas.messaging.metrics import (
    CONSUMER_LAG,
    CONSUMER_MISSING_TOPICS,
    CONSUMER_RETRIES,
    DEAD_LETTERS,
    EVENTS_APPLIED,
    EVENTS_DUPLICATE,
    EVENTS_IGNORED,
    EVENTS_SUPERSEDED,
)

log = logging.getLogger(__name__)

AfterCommit = Callable[[CloudEvent[Any]], Awaitable[None]]

# How long a stop waits for an offset commit under way (a healthy broker takes
# milliseconds); with the clients' own stop bound (10 s), well inside Kubernetes' 30 s.
COMMIT_GRACE_SECONDS = 5.0


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Runs inside aiokafka's group coordination, whatever the poll loop is doing: a batch
    may be in flight when its partitions are revoked."""

    def __init__(self, owner: Consumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        self.owner._revoked(revoked)

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        self.owner._assigned(assigned)


class Consumer:
    """Applies events of the subscribed types exactly once to a service's database."""

    def __init__(
        self,
        *,
        group: str,
        sessions: async_sessionmaker[AsyncSession],
        inbox: Table,
        handlers: Mapping[type[EventData], Handler],
        kafka: KafkaSettings,
        dead_letters: DeadLetterLog | None = None,
        batch_size: int = 1,
        max_attempts: int = 5,
        retry_base: float = 0.2,
        max_backoff: float = 5.0,
        after_commit: AfterCommit | None = None,
    ) -> None:
        self.group = group
        self.applier = EventApplier(group=group, sessions=sessions, inbox=inbox, handlers=handlers)
        self.dead_letter_log = dead_letters
        self.batch_size = batch_size
        bind = sessions.kw.get("bind")
        self._serial = bind is not None and bind.dialect.name == "sqlite"
        self.kafka = kafka
        self.max_attempts = max_attempts
        self.retry_base = retry_base
        self.max_backoff = max_backoff
        self.after_commit = after_commit
        self.topics = self.applier.topics
        self.assigned = asyncio.Event()
        # The partitions this member owns now: empty from the start of a rebalance (when
        # aiokafka revokes them all) until its end.
        self.partitions: frozenset[TopicPartition] = frozenset()
        # How many rebalances began: a batch's offsets are committed only if none began
        # since it was fetched, that is while this member still owns its partitions.
        self._rebalances = 0
        self._lag_reported: set[TopicPartition] = set()
        # Offsets whose commit a stop abandoned (the broker did not answer).
        self._unconfirmed: dict[TopicPartition, int] = {}
        self._stopping = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None

    def request_stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Consume until `request_stop()`; a broker that is down at start is waited for."""
        if not self.topics:
            log.info("consumer %s: no event types subscribed", self.group)
            await self._stopping.wait()
            return
        backoff = Backoff(cap=self.max_backoff)
        try:
            while not self._stopping.is_set():
                try:
                    await self._start()
                    backoff.reset()
                    await self._poll_forever()
                except KafkaError as exc:
                    delay = backoff.next_delay()
                    log.warning("consumer %s: %s; retrying in %.2fs", self.group, exc, delay)
                    await self._close()
                    await self._sleep(delay)
        finally:
            await self._close()

    async def _start(self) -> None:
        if self._consumer is not None:
            return
        # Subscribe only to topics that exist: subscribing to a missing one may make the
        # broker create it with its own partition count, or leave the consumer without it
        # until its next metadata refresh, minutes later.
        missing = await missing_topics(self.kafka, self.topics)
        CONSUMER_MISSING_TOPICS.labels(self.group).set(len(missing))
        if missing:
            raise TopicsMissing(missing)
        producer = self.kafka.producer(f"dlq-{self.group}")
        consumer = self.kafka.consumer(self.group)
        try:
            await producer.start()
            consumer.subscribe(self.topics, listener=_Rebalance(self))
            await consumer.start()
        except BaseException:
            await stop_clients(self.group, consumer, producer)
            raise
        self._producer, self._consumer = producer, consumer

    def _revoked(self, revoked: Sequence[TopicPartition]) -> None:
        self._rebalances += 1
        self.partitions = frozenset()
        self.assigned.clear()
        # Another member reports these from now on; a series left here would show lag
        # on a member that no longer consumes the partition (and count it twice in a sum
        # across replicas).
        self._forget_lag(revoked)

    def _assigned(self, assigned: Sequence[TopicPartition]) -> None:
        self.partitions = frozenset(assigned)
        if assigned:
            self.assigned.set()

    async def _poll_forever(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        loop = asyncio.get_running_loop()
        next_lag = 0.0
        while not self._stopping.is_set():
            batch = await consumer.getmany(timeout_ms=200)
            # Read with no await since getmany returned: the batch belongs to this count.
            fetched_in = self._rebalances
            if batch:
                done = await self._apply_batch(list(batch.values()))
                offsets = {tp: last + 1 for tp, last in zip(batch, done, strict=True) if last >= 0}
                await self._commit(consumer, offsets, fetched_in)
            if loop.time() >= next_lag:
                await self._report_lag(consumer)
                next_lag = loop.time() + 2.0

    async def _apply_batch(self, partitions: list[list[ConsumerRecord]]) -> list[int]:
        if self._serial:
            # SQLite has one writer at a time: concurrent transactions would only queue on
            # its busy handler, whose growing sleeps cost far more than going in turn.
            return [await self._apply_partition(records) for records in partitions]
        return list(await asyncio.gather(*(self._apply_partition(r) for r in partitions)))

    async def _commit(
        self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int], fetched_in: int
    ) -> None:
        """Commit what a batch finished, unless a rebalance began since it was fetched.

        Its partitions were revoked then, possibly given to another member, and committing
        anyway fails in aiokafka (0.14) one of two ways, each worse than skipping: once the
        new assignment lacks a partition, `commit` raises IllegalStateError before asking
        the broker (which used to restart this consumer: it left the group, rebalancing
        it once more); between this member's rejoining and its new assignment the broker
        refuses the commit (REBALANCE_IN_PROGRESS), on which aiokafka logs an error, asks
        for yet another rejoin and raises CommitFailedError. Skipped offsets cost no
        correctness: the partition's next owner (this member too, if it keeps or gets it
        back) reads those records again from the last commit, and the inbox skips the ones
        already applied."""
        if not offsets:
            return
        if self._rebalances != fetched_in:
            log.info(
                "consumer %s: partitions revoked while their batch was applied; offsets"
                " %s left uncommitted (their next owner reads those records again and"
                " skips the ones applied)",
                self.group,
                _describe_offsets(offsets),
            )
            return
        try:
            if not await self._committed_unless_stopped(consumer.commit(offsets)):
                # Left for the single shutdown warning (`_close`).
                self._unconfirmed.update(offsets)
        except CommitFailedError as exc:
            # The rebalance reached the broker before this member (or its session
            # expired): the same outcome as above, met a moment later. IllegalStateError
            # cannot come: the assignment changes only after a revocation.
            log.info(
                "consumer %s: commit of %s refused, the group is rebalancing: %s",
                self.group,
                _describe_offsets(offsets),
                exc,
            )

    async def _committed_unless_stopped(self, commit: Awaitable[None]) -> bool:
        """Await the commit; once a stop is requested, for `COMMIT_GRACE_SECONDS` at most.

        aiokafka retries a commit for as long as the broker does not answer (a timed-out
        request just marks the coordinator dead and goes again), which would hold the
        shutdown as long as the broker is frozen. False if the commit was abandoned: the
        records are read again after a restart and the inbox skips them."""
        committing = asyncio.ensure_future(commit)
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({committing, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not committing.done():
                await asyncio.wait({committing}, timeout=COMMIT_GRACE_SECONDS)
        finally:
            stopping.cancel()
            if not committing.done():
                committing.cancel()
        if not committing.done() or committing.cancelled():
            # Abandoned: its cancellation completes on its own, and whatever it ends with
            # is nobody's business any more (not a "never retrieved" error at exit).
            committing.add_done_callback(_discard_outcome)
            return False
        committing.result()  # its error, if any
        return True

    async def _apply_partition(self, records: list[ConsumerRecord]) -> int:
        """Apply records in order; return the last offset finished, -1 if none was.

        Runs of well-formed records are applied `batch_size` at a time in one transaction
        each; a record that cannot be parsed, or a batch that fails, is handled one record
        at a time (with retries and the dead-letter topic), so batching never changes
        what happens, only how many transactions it takes.
        """
        last, start = -1, 0
        while start < len(records) and not self._stopping.is_set():
            if self.batch_size > 1:
                run = self._usable_run(records[start : start + self.batch_size])
                if len(run) > 1 and await self._apply_run(run):
                    start += len(run)
                    last = records[start - 1].offset
                    continue
                if len(run) > 1:
                    # The batch failed as a whole: the same records, one at a time.
                    for record, _ in run:
                        if not await self._handle(record):
                            return last
                        last = record.offset
                    start += len(run)
                    continue
            if not await self._handle(records[start]):
                break
            last = records[start].offset
            start += 1
        return last

    def _usable_run(
        self, records: list[ConsumerRecord]
    ) -> list[tuple[ConsumerRecord, tuple[CloudEvent[Any], Handler] | None]]:
        """The leading records that parse: each with its event and handler, or None for a
        type this group does not handle. Stops before the first unusable record."""
        run: list[tuple[ConsumerRecord, tuple[CloudEvent[Any], Handler] | None]] = []
        for record in records:
            try:
                run.append((record, self.applier.parse(record.value)))
            except Unusable:
                break
        return run

    async def _apply_run(
        self, run: list[tuple[ConsumerRecord, tuple[CloudEvent[Any], Handler] | None]]
    ) -> bool:
        items = [parsed for _, parsed in run if parsed is not None]
        ignored = len(run) - len(items)
        try:
            outcomes = await self.applier.apply_batch(items) if items else []
        except Exception as exc:
            CONSUMER_RETRIES.labels(self.group).inc()
            log.info("consumer %s: batch of %d failed (%s); one by one", self.group, len(run), exc)
            return False
        if ignored:
            EVENTS_IGNORED.labels(self.group).inc(ignored)
        for (event, _), outcome in zip(items, outcomes, strict=True):
            self._count(event, outcome)
            if self.after_commit is not None:
                await self.after_commit(event)
        return True

    def _count(self, event: CloudEvent[Any], outcome: Outcome) -> None:
        if outcome is Outcome.APPLIED:
            EVENTS_APPLIED.labels(self.group, event.type).inc()
        elif outcome is Outcome.SUPERSEDED:
            EVENTS_SUPERSEDED.labels(self.group).inc()
        else:
            EVENTS_DUPLICATE.labels(self.group).inc()

    async def _handle(self, record: ConsumerRecord) -> bool:
        """Finish one record (applied, skipped or dead-lettered); False if stopped first."""
        try:
            parsed = self.applier.parse(record.value)
        except Unusable as exc:
            return await self._dead_letter(record, DeadLetter(exc.reason, exc.error, 1))
        if parsed is None:
            EVENTS_IGNORED.labels(self.group).inc()
            return True
        event, handler = parsed
        return await self._apply_with_retries(record, event, handler)

    async def _apply_with_retries(
        self, record: ConsumerRecord, event: CloudEvent[Any], handler: Handler
    ) -> bool:
        failures = 0
        backoff = Backoff(base=self.retry_base, cap=self.max_backoff)
        while not self._stopping.is_set():
            try:
                outcome = await self.applier.apply(event, handler)
            except Exception as exc:
                CONSUMER_RETRIES.labels(self.group).inc()
                if is_database_outage(exc):
                    delay = backoff.next_delay()
                    log.warning("consumer %s: database unavailable (%s)", self.group, exc)
                    await self._sleep(delay)
                    continue
                failures += 1
                if failures >= self.max_attempts:
                    letter = DeadLetter("failed", describe(exc), failures)
                    return await self._dead_letter(record, letter)
                log.info(
                    "consumer %s: %s %s failed (attempt %d): %s",
                    self.group,
                    event.type,
                    event.id,
                    failures,
                    exc,
                )
                await self._sleep(backoff.next_delay())
                continue
            self._count(event, outcome)
            if self.after_commit is not None:
                await self.after_commit(event)
            return True
        return False

    async def _dead_letter(self, record: ConsumerRecord, letter: DeadLetter) -> bool:
        log.error(
            "consumer %s: dead-lettering %s[%d]@%d (%s): %s",
            self.group,
            record.topic,
            record.partition,
            record.offset,
            letter.reason,
            letter.error,
        )
        headers = [
            ("dlq-reason", letter.reason.encode()),
            ("dlq-error", letter.error.encode()),
            ("dlq-attempts", str(letter.attempts).encode()),
            ("dlq-consumer-group", self.group.encode()),
            ("dlq-original-topic", record.topic.encode()),
            ("dlq-original-partition", str(record.partition).encode()),
            ("dlq-original-offset", str(record.offset).encode()),
            ("dlq-failed-at", datetime.now(UTC).isoformat().encode()),
        ]
        copy = {
            "value": record.value,
            "key": record.key,
            "headers": [*(record.headers or ()), *headers],
        }
        backoff, trimmed = Backoff(cap=self.max_backoff), False
        # The message may only be skipped once it is safely in the DLQ.
        while not self._stopping.is_set():
            assert self._producer is not None
            try:
                await self._producer.send_and_wait(dlq_topic(self.group), **copy)
            except KafkaError as exc:
                if isinstance(exc, MessageSizeTooLargeError) and not trimmed:
                    # Retrying cannot make it fit (another producer wrote more than ours
                    # may send): the DLQ gets the letter without the message, which the
                    # dead-letter log keeps whole for a replay.
                    log.warning("consumer %s: too large for the DLQ: %s", self.group, exc)
                    omitted = ("dlq-value-omitted", str(len(record.value or b"")).encode())
                    copy = {"value": b"", "key": None, "headers": [*headers, omitted]}
                    trimmed = True
                    continue
                log.warning("consumer %s: DLQ unavailable: %s", self.group, exc)
                await self._sleep(backoff.next_delay())
                continue
            DEAD_LETTERS.labels(self.group, letter.reason).inc()
            return await self._log_dead_letter(record, letter)
        return False

    async def _log_dead_letter(self, record: ConsumerRecord, letter: DeadLetter) -> bool:
        """Keep the dead letter for the admin API; a database outage is waited out."""
        if self.dead_letter_log is None:
            return True
        backoff = Backoff(cap=self.max_backoff)
        while not self._stopping.is_set():
            try:
                await self.dead_letter_log.record(record, letter)
                return True
            except Exception as exc:
                if not is_database_outage(exc):
                    raise
                log.warning("consumer %s: cannot log dead letter: %s", self.group, exc)
                await self._sleep(backoff.next_delay())
        return False

    async def _report_lag(self, consumer: AIOKafkaConsumer) -> None:
        rebalances = self._rebalances
        for tp in self.partitions:
            end = consumer.highwater(tp)
            if end is None:
                continue
            # Waits only for a position not known yet, during which a rebalance may take
            # the partition away (position then raises IllegalStateError).
            try:
                position = await consumer.position(tp)
            except IllegalStateError:
                return
            if self._rebalances != rebalances:
                return  # revoked meanwhile: its series was removed and stays so
            CONSUMER_LAG.labels(self.group, tp.topic, str(tp.partition)).set(max(0, end - position))
            self._lag_reported.add(tp)

    def _forget_lag(self, partitions: Iterable[TopicPartition]) -> None:
        for tp in partitions:
            CONSUMER_LAG.remove(self.group, tp.topic, str(tp.partition))
            self._lag_reported.discard(tp)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return

    async def _close(self) -> None:
        consumer, producer = self._consumer, self._producer
        self._consumer = self._producer = None
        self.assigned.clear()
        self.partitions = frozenset()
        # aiokafka revokes nothing when it stops: this member consumes nothing any more.
        self._forget_lag(list(self._lag_reported))
        unconfirmed, self._unconfirmed = self._unconfirmed, {}
        notes = []
        if unconfirmed:
            notes.append(
                f"offsets {_describe_offsets(unconfirmed)} left uncommitted after"
                f" {COMMIT_GRACE_SECONDS:g}s (read again and skipped after a restart)"
            )
        await stop_clients(self.group, consumer, producer, notes)


def _discard_outcome(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _describe_offsets(offsets: Mapping[TopicPartition, int]) -> str:
    return ", ".join(
        f"{tp.topic}[{tp.partition}]@{offset}"
        for tp, offset in sorted(
            offsets.items(), key=lambda item: (item[0].topic, item[0].partition)
        )
    )
