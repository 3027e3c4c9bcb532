"""Time to consistency of the six business flows of design §6, end to end.

The platform runs as `make run` runs it (the embedded broker; both services as API, relay
and consumer processes; the gateway), on PostgreSQL when a server answers, SQLite otherwise.
Each flow (tests/support/journeys.py) runs RUNS times (default 20); for each asynchronous
outcome we take the seconds from the response of the request that caused it to the first
poll (every 20 ms, through the gateway) that saw it. The baseline, measured in the same
process against the same broker, is one raw aiokafka produce → consume hop: the floor any
event-carried outcome pays. Results go to docs/benchmarks.md; repeat with
`make bench-flows` (optionally RUNS=).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from deploy.local.launcher import SERVICES, Platform, Ports
from tests.benchmarks.gateway_proxy import UNLIMITED
from tests.benchmarks.report import measured_on, median, quantile, write_section
from tests.support.databases import platform_databases
from tests.support.journeys import Gateway, Journeys

RUNS = int(os.environ.get("RUNS", "20"))
HOPS = 200


async def broker_hop(bootstrap: str) -> list[float]:
    """Seconds from send to receipt of HOPS records, one at a time, on a fresh topic."""
    topic = f"bench.hop.{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, fetch_max_wait_ms=10, auto_offset_reset="earliest"
    )
    await producer.start()
    await producer.send_and_wait(topic, b"warm-up")
    await consumer.start()
    try:
        await consumer.getone()
        samples = []
        for index in range(HOPS):
            sent = time.monotonic()
            await producer.send_and_wait(topic, str(index).encode())
            await consumer.getone()
            samples.append(time.monotonic() - sent)
        return samples
    finally:
        await consumer.stop()
        await producer.stop()


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


async def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        async with platform_databases(SERVICES) as database_urls:
            backend = "PostgreSQL" if database_urls else "SQLite"
            platform = Platform(
                Path(directory),
                ports=Ports.free(),
                database_urls=database_urls,
                # Every user of the benchmark polls from this one address, 50 times a
                # second per outcome awaited: the gateway's rate limits aside.
                environment={
                    "GATEWAY_RATE_LIMIT_PER_USER": UNLIMITED,
                    "GATEWAY_RATE_LIMIT_PER_IP": UNLIMITED,
                },
            )
            started = time.monotonic()
            await platform.start()
            print(f"platform up on {backend} in {time.monotonic() - started:.1f}s", flush=True)
            gateway = Gateway(platform.gateway_url)
            try:
                await gateway.sign_in_all()
                journeys = Journeys(gateway)
                for flow in journeys.flows().values():  # warm-up: consumers assigned, pools open
                    await flow()
                samples: dict[str, dict[str, list[float]]] = {}
                for name, flow in journeys.flows().items():
                    for _ in range(RUNS):
                        for stage, seconds in (await flow()).items():
                            samples.setdefault(name, {}).setdefault(stage, []).append(seconds)
                    print(f"{name}: {RUNS} runs", flush=True)
                hop = await broker_hop(platform.broker.bootstrap_servers)
            finally:
                await gateway.close()
                await platform.stop()
    report(samples, hop, backend)


def report(samples: dict[str, dict[str, list[float]]], hop: list[float], backend: str) -> None:
    hop_median = median(hop)
    rows = [
        "| flow | outcome | median | p99 | median ÷ broker hop |",
        "|---|---|---:|---:|---:|",
    ]
    for flow, stages in samples.items():
        for stage, values in stages.items():
            rows.append(
                f"| {flow} | {stage} | {milliseconds(median(values))} | "
                f"{milliseconds(quantile(values, 0.99))} | {median(values) / hop_median:.1f}× |"  # noqa: RUF001
            )
    body = (
        "Command: `make bench-flows` (`RUNS=` to change the 20 runs per flow). "
        f"{measured_on()}; databases on {backend}; the platform as `make run` starts it "
        "(every process of both services and the gateway, the embedded broker).\n\n"
        "Each flow runs through the gateway with the development users' tokens; an outcome's "
        "time is from the response of the request that caused it to the first poll that saw "
        "it (polls every 20 ms through the gateway, so each figure includes up to one poll "
        "interval and one gateway round trip). Baseline, same process, same broker: one raw "
        f"aiokafka produce → consume hop, median {milliseconds(hop_median)}, p99 "
        f"{milliseconds(quantile(hop, 0.99))} ({HOPS} records).\n\n" + "\n".join(rows) + "\n"
    )
    write_section("Time to consistency of the business flows", body)
    print(body)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
