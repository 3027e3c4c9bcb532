"""`make run`: migrate, start the embedded broker, both services (API, relay and consumer as
separate processes) and the gateway, create the development employees, optionally load the
demo company (`SEED=1`), print where everything is; Ctrl-C stops everything. It starts
nothing while one of its ports is taken (it names the port and the setting that moves it).
A process that exits is started again, as compose and Kubernetes would; one that exits
again after three restarts within a minute (a crash loop) stops everything. The broker
exiting stops everything too: it kept the events in memory only, so a new one would carry
on without them unnoticed.

Each process's output, the broker's and the migrations' too, goes to the terminal prefixed
with its name and to .data/logs/ (migrate-<service>.log for the migrations).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from deploy.local.launcher import Platform, PlatformFailed, Ports
from shared_schemas.broker import BrokerUnavailable

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
# Restarts of one process within a minute before its exits count as a crash loop.
RESTARTS_PER_MINUTE = 3


def echo(line: str) -> None:
    sys.stdout.write(line)
    sys.stdout.flush()


def banner(platform: Platform, *, seeding: bool = False) -> str:
    ports = platform.ports
    return (
        "\nReady.\n"
        f"  gateway      {platform.gateway_url}   (docs: {platform.gateway_url}/docs)\n"
        f"  crm-service  {platform.url_of('crm')}   (docs: {platform.url_of('crm')}/docs)\n"
        f"  erp-service  {platform.url_of('erp')}   (docs: {platform.url_of('erp')}/docs)\n"
        f"  broker       127.0.0.1:{ports.broker}\n"
        "  development logins (POST /auth/token at the gateway, or the Authorize button\n"
        "  of the docs page), each linked to a development employee in ERP:\n"
        + "".join(
            f"    {role:<14} password dev-{role}\n"
            for role in ("admin", "sales", "sales_manager", "support", "warehouse", "finance", "hr")
        )
        + "  a development token for the services: make token ROLE=<role>\n"
        + (
            "  demo data: loading now (SEED=1); if stopped early, make seed finishes it\n"
            if seeding
            else "  demo data: make seed (while this runs)\n"
        )
        + "  logs in .data/logs/; Ctrl-C stops all.\n"
    )


async def until_stopped(work: Coroutine[Any, Any, T], stop: asyncio.Event) -> tuple[bool, T | None]:
    """Run `work` unless `stop` is set first (Ctrl-C): then cancel it and wait until it has
    unwound. (whether it finished, its result)."""
    task = asyncio.create_task(work)
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False, None
    return True, task.result()


async def supervise(platform: Platform, stop: asyncio.Event) -> str | None:
    """Start again each process that exits until `stop` is set; on a crash loop, or when the
    broker has exited, set `stop` and return what happened."""
    restarts: dict[str, list[float]] = {}
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        code = platform.broker.returncode
        if code is not None:
            stop.set()
            return (
                f"the broker exited with code {code} (its log: {platform.broker.log_path}). It"
                " kept the events in memory only: a new one would carry on without those not"
                " yet consumed, unnoticed. Start again, and republish what was lost"
                " (docs/operations.md)."
            )
        for name in platform.exited():
            now, code = loop.time(), platform.processes[name].returncode
            recent = [at for at in restarts.get(name, []) if now - at < 60]
            if len(recent) >= RESTARTS_PER_MINUTE:
                stop.set()
                return f"{name} exited {len(recent) + 1} times within a minute (last code {code})"
            echo(f"{name} exited with code {code}; starting it again\n")
            await platform.start_process(name)
            restarts[name] = [*recent, now]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
    return None


def ports_from_environment() -> Ports:
    """The ports of `make run`: the defaults, each moved by its variable (`CRM_PORT`,
    `CRM_RELAY_METRICS_PORT`, `CRM_CONSUMER_METRICS_PORT`, likewise `ERP_`, `GATEWAY_`,
    and `BROKER_PORT`), the names the services read their own settings by."""
    defaults = Ports()

    def port(name: str, default: int) -> int:
        return int(os.environ.get(name, str(default)))

    return Ports(
        gateway=port("GATEWAY_PORT", defaults.gateway),
        crm=port("CRM_PORT", defaults.crm),
        erp=port("ERP_PORT", defaults.erp),
        broker=port("BROKER_PORT", defaults.broker),
        workers={
            service: (
                port(f"{service.upper()}_RELAY_METRICS_PORT", relay),
                port(f"{service.upper()}_CONSUMER_METRICS_PORT", consumer),
            )
            for service, (relay, consumer) in defaults.workers.items()
        },
    )


async def main() -> int:
    ports = ports_from_environment()
    data = Path(os.environ.get("PLATFORM_DATA_DIR", ROOT / ".data"))
    platform = Platform(data, ports=ports, echo=echo)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    supervisor: asyncio.Task[str | None] | None = None
    failure: str | None = None  # said last, below what the processes print while stopping
    try:
        try:
            started, _ = await until_stopped(platform.start(), stop)
        except (PlatformFailed, BrokerUnavailable) as error:
            failure = f"could not start the platform:\n{error}"
            return 1
        if not started:
            return 130
        supervisor = asyncio.create_task(supervise(platform, stop))
        seeding, seeded = os.environ.get("SEED") in ("1", "true", "yes"), True
        echo(banner(platform, seeding=seeding))
        if seeding:
            from deploy.local.seed import seed

            echo("\nLoading the demo company through the gateway...\n")
            seeded, summary = await until_stopped(seed(platform.gateway_url), stop)
            if not seeded:
                echo("\nDemo company interrupted: make seed finishes it on the next run.\n")
            else:
                echo(f"\nDemo company loaded: {summary}\n")
        await stop.wait()
        reason = await supervisor
        if reason is not None:
            echo(f"stopping everything: {reason}\n")
            failure = f"stopped: {reason}"
            return 1
        return 0 if seeded else 130
    finally:
        if supervisor is not None and not supervisor.done():
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        await platform.stop()
        if failure is not None:
            sys.stderr.write(f"\n{failure}\n")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
