"""Bounded shutdown of clients whose peer may be gone."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)

# What stopping a client may meet when its broker or server is gone: reported in one line,
# without a traceback. Anything else is a bug and is logged with its traceback.
_PEER_GONE = (KafkaError, OSError)


async def stop_within(
    closing: Awaitable[Any], seconds: float = 10.0, *, warn: bool = True
) -> str | None:
    """Await `closing`, giving up after `seconds`: stopping a Kafka client whose broker is
    gone can wait for a long time, and a process shutdown must not.

    Returns None once it is done, else why it was abandoned (logged as a warning unless
    `warn` is false, for a caller that reports several steps in one line). Never raises,
    except the cancellation of the caller's own task."""
    try:
        await asyncio.wait_for(closing, timeout=seconds)
        return None
    except TimeoutError:
        reason = f"no answer within {seconds:g}s"
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # this task is being cancelled: not ours to swallow
        # aiokafka's consumer cancels its pending fetch requests on stop and awaits them
        # unguarded, so a stop while the broker is unreachable ends in their cancellation
        # (aio-libs/aiokafka#647), half-way through.
        reason = "interrupted by the client's own cancelled requests"
    except _PEER_GONE as exc:
        reason = str(exc) or type(exc).__name__
    except Exception as exc:
        log.warning("shutdown step failed: %r", exc, exc_info=True)
        return repr(exc)
    if warn:
        log.warning("shutdown step abandoned: %s", reason)
    return reason


async def stop_clients(
    group: str,
    consumer: AIOKafkaConsumer | None,
    producer: AIOKafkaProducer | None,
    notes: Sequence[str] = (),
) -> None:
    """Stop a consumer group member's two clients at once, each within a bound; a broker
    that is gone or frozen makes one warning (with `notes` on what else it cost), not a
    traceback per client."""
    failed = await asyncio.gather(_stop_consumer(consumer), _stop_producer(producer))
    reasons = [
        *notes,
        *(
            f"{name} client: {reason}"
            for name, reason in zip(("consumer", "DLQ producer"), failed, strict=True)
            if reason is not None
        ),
    ]
    if reasons:
        log.warning(
            "consumer %s: stopped without the broker answering (%s)", group, "; ".join(reasons)
        )


async def _stop_consumer(consumer: AIOKafkaConsumer | None) -> str | None:
    if consumer is None:
        return None
    reason = await stop_within(consumer.stop(), warn=False)
    if reason is not None:
        # A stop that ended half-way leaves the network client open: its metadata task
        # would go on trying to reach the broker (and logging it) for as long as the
        # process lives.
        client = getattr(consumer, "_client", None)
        if client is not None:
            # Closing sockets and one task: quick, unless the broker is frozen mid-reply.
            await stop_within(client.close(), 2.0, warn=False)
    return reason


async def _stop_producer(producer: AIOKafkaProducer | None) -> str | None:
    if producer is None:
        return None
    return await stop_within(producer.stop(), warn=False)
