"""A relay or consumer of the probe service as its own process, for kill tests.

`--block-after N` makes the process stop dead at an exact point and announce it by creating
the `--marker` file: a consumer after the Nth event's database commit (before the offset
commit), a relay after the broker acknowledged a batch (before marking it published). The
test then SIGKILLs it there.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared_schemas.database import create_engine, session_factory
from shared_schemas.events.base import CloudEvent
from shared_schemas.messaging.consumer import Consumer
from shared_schemas.messaging.kafka import KafkaSettings
from shared_schemas.messaging.relay import PendingEvent, Relay
from tests.support.probe import ProbeService


async def block_forever(marker: Path) -> None:
    marker.write_text("blocked")
    await asyncio.Event().wait()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["relay", "consumer"])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", default="probe")
    parser.add_argument("--block-after", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=1, help="events per transaction")
    parser.add_argument("--marker", type=Path)
    parser.add_argument(
        "--applied-log", type=Path, help="append '<event id> <unix time>' after each commit"
    )
    args = parser.parse_args()

    engine = create_engine(args.database_url)
    probe = ProbeService(args.topic)
    kafka = KafkaSettings(bootstrap_servers=args.bootstrap_servers, session_timeout_ms=6_000)
    seen = 0
    applied_log = args.applied_log.open("a", buffering=1) if args.applied_log else None

    async def after_send(rows: Sequence[PendingEvent]) -> None:
        if args.block_after:
            await block_forever(args.marker)

    async def after_commit(event: CloudEvent[Any]) -> None:
        nonlocal seen
        seen += 1
        if applied_log is not None:
            applied_log.write(f"{event.id} {time.time()}\n")
        if args.block_after and seen >= args.block_after:
            await block_forever(args.marker)

    worker: Relay | Consumer
    if args.role == "relay":
        worker = Relay(engine, probe.tables.outbox, kafka, name="probe", after_send=after_send)
    else:
        worker = Consumer(
            group=args.group,
            sessions=session_factory(engine),
            inbox=probe.tables.inbox,
            handlers={probe.event: probe.handler()},
            kafka=kafka,
            batch_size=args.batch_size,
            after_commit=after_commit,
        )
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, worker.request_stop)
    await worker.run()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
