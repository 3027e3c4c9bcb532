"""`make run`: migrate, start the embedded broker, both services (API, relay and consumer as
separate processes) and the gateway; print where they are; stop everything on Ctrl-C.

Each process's output goes to the terminal prefixed with its name and to .data/logs/.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from shared_schemas.broker import EmbeddedBroker

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DATA = ROOT / ".data"
LOGS = DATA / "logs"
BROKER_PORT = int(os.environ.get("BROKER_PORT", "9092"))

COLOURS = ["36", "33", "35", "32", "34", "31", "96", "93"]


@dataclass
class Spec:
    name: str
    command: list[str]
    ready_url: str | None = None


SERVICES = [
    Spec("crm-api", [str(BIN / "crm-api")], "http://127.0.0.1:8001/readyz"),
    Spec("crm-relay", [str(BIN / "crm-relay")]),
    Spec("crm-consumer", [str(BIN / "crm-consumer")]),
    Spec("erp-api", [str(BIN / "erp-api")], "http://127.0.0.1:8002/readyz"),
    Spec("erp-relay", [str(BIN / "erp-relay")]),
    Spec("erp-consumer", [str(BIN / "erp-consumer")]),
    Spec("gateway", [str(BIN / "gateway-api")], "http://127.0.0.1:8000/readyz"),
    # The gateway's consumer keeps its event history; its relay runs the webhook deliveries.
    Spec("gateway-relay", [str(BIN / "gateway-relay")]),
    Spec("gateway-consumer", [str(BIN / "gateway-consumer")]),
]


class Supervisor:
    def __init__(self) -> None:
        self.processes: list[tuple[str, asyncio.subprocess.Process]] = []
        self.pumps: list[asyncio.Task[None]] = []
        self.width = max(len(spec.name) for spec in SERVICES) + 1

    async def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop children in order
        )
        colour = COLOURS[len(self.processes) % len(COLOURS)]
        self.processes.append((name, process))
        self.pumps.append(asyncio.create_task(self._pump(name, colour, process)))

    async def _pump(self, name: str, colour: str, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        prefix = (
            f"\x1b[{colour}m{name.ljust(self.width)}|\x1b[0m "
            if sys.stdout.isatty()
            else (f"{name.ljust(self.width)}| ")
        )
        with (LOGS / f"{name}.log").open("ab") as log_file:
            async for line in process.stdout:
                log_file.write(line)
                log_file.flush()
                sys.stdout.write(prefix + line.decode(errors="replace"))
                sys.stdout.flush()

    def exited(self) -> list[str]:
        return [name for name, process in self.processes if process.returncode is not None]

    async def stop(self) -> None:
        for _, process in reversed(self.processes):
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                process.kill()
                await process.wait()
        for pump in self.pumps:
            pump.cancel()


def migrate(env: dict[str, str]) -> None:
    for config in ("crm-service/alembic.ini", "erp-service/alembic.ini", "gateway/alembic.ini"):
        subprocess.run(
            [str(BIN / "alembic"), "-c", config, "upgrade", "head"], cwd=ROOT, env=env, check=True
        )


async def wait_ready(supervisor: Supervisor, urls: list[str], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2.0) as client:
        for url in urls:
            while True:
                if supervisor.exited():
                    raise RuntimeError(f"exited during start-up: {', '.join(supervisor.exited())}")
                try:
                    if (await client.get(url)).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} not ready within {within:.0f}s")
                await asyncio.sleep(0.2)


async def main() -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{BROKER_PORT}"}
    migrate(env)
    supervisor = Supervisor()
    broker = EmbeddedBroker(BROKER_PORT, log_path=LOGS / "broker.log")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        # Started in this process: services start only once every topic exists, so no
        # producer makes the broker auto-create one with its own partition count.
        await broker.start()
        for spec in SERVICES:
            await supervisor.start(spec.name, spec.command, env)
        await wait_ready(supervisor, [spec.ready_url for spec in SERVICES if spec.ready_url])
        print(
            "\nReady.\n"
            "  gateway      http://127.0.0.1:8000   (docs: http://127.0.0.1:8000/docs)\n"
            "  crm-service  http://127.0.0.1:8001   (docs: http://127.0.0.1:8001/docs)\n"
            "  erp-service  http://127.0.0.1:8002   (docs: http://127.0.0.1:8002/docs)\n"
            f"  broker       127.0.0.1:{BROKER_PORT}\n"
            "  sign in at the gateway: POST /auth/token, username = role, password\n"
            "    dev-<role> (admin/dev-admin, sales/dev-sales, sales_manager, support,\n"
            "    warehouse, finance, hr)\n"
            "  a development token for the services: make token ROLE=<role>\n"
            "  logs in .data/logs/; Ctrl-C stops everything.\n",
            flush=True,
        )
        while not stop.is_set():
            if supervisor.exited():
                print(f"stopping: {', '.join(supervisor.exited())} exited", flush=True)
                return 1
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except TimeoutError:
                continue
        return 0
    finally:
        await supervisor.stop()
        broker.stop()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
