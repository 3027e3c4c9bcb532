"""The whole platform on one machine: the embedded broker, both services (API, relay and
consumer as separate processes) and the gateway, on SQLite files or given databases.

`make run` uses it with the default ports; the end-to-end tests and benchmarks use it on
free ports, stop and start single processes and pause the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import httpx

from shared_schemas.broker import (
    EmbeddedBroker,
    bind_error,
    describe_bind_error,
    free_port,
    listens_on,
)
from shared_schemas.identity.development import DEVELOPMENT_EMPLOYEE_IDS

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COLOURS = ["36", "33", "35", "32", "34", "31", "96", "93", "92"]
SERVICES = ("crm", "erp", "gateway")
# Each service's package folder (its alembic.ini lives there).
FOLDERS = {"crm": "crm-service", "erp": "erp-service", "gateway": "gateway"}
# `alembic` with its INFO log on (which revisions it applies): the services' migration
# environments configure no logging, so the plain command prints nothing on success.
MIGRATE = (
    "import logging, sys; from alembic.config import main; "
    "logging.basicConfig(format='%(levelname)-5.5s [%(name)s] %(message)s'); "
    "logging.getLogger('alembic').setLevel(logging.INFO); "
    "main(argv=sys.argv[1:], prog='alembic')"
)


@dataclass(frozen=True)
class Ports:
    gateway: int = 8000
    crm: int = 8001
    erp: int = 8002
    broker: int = 9092
    # Metrics of the relay and consumer processes, per service.
    workers: dict[str, tuple[int, int]] = field(
        default_factory=lambda: {
            "crm": (9101, 9102),
            "erp": (9201, 9202),
            "gateway": (9301, 9302),
        }
    )

    @classmethod
    def free(cls) -> Ports:
        return cls(
            free_port(),
            free_port(),
            free_port(),
            free_port(),
            {name: (free_port(), free_port()) for name in SERVICES},
        )

    def uses(self) -> list[tuple[int, str, str]]:
        """Each port, what listens on it and the setting that moves it (the variable
        `make run` reads; the services read their own ports by the same names)."""
        uses = [
            (self.gateway, "the gateway's API", "GATEWAY_PORT"),
            (self.crm, "crm-service's API", "CRM_PORT"),
            (self.erp, "erp-service's API", "ERP_PORT"),
            (self.broker, "the embedded broker", "BROKER_PORT"),
        ]
        for service, (relay, consumer) in self.workers.items():
            prefix = service.upper()
            uses.append((relay, f"{service}-relay's metrics", f"{prefix}_RELAY_METRICS_PORT"))
            uses.append(
                (consumer, f"{service}-consumer's metrics", f"{prefix}_CONSUMER_METRICS_PORT")
            )
        return uses


@dataclass(frozen=True)
class Process:
    name: str
    script: str
    service: str
    kind: str  # api, relay or consumer


PROCESSES = (
    Process("crm-api", "crm-api", "crm", "api"),
    Process("crm-relay", "crm-relay", "crm", "relay"),
    Process("crm-consumer", "crm-consumer", "crm", "consumer"),
    Process("erp-api", "erp-api", "erp", "api"),
    Process("erp-relay", "erp-relay", "erp", "relay"),
    Process("erp-consumer", "erp-consumer", "erp", "consumer"),
    Process("gateway", "gateway-api", "gateway", "api"),
    # The gateway's consumer keeps its event history; its relay runs the webhook deliveries.
    Process("gateway-relay", "gateway-relay", "gateway", "relay"),
    Process("gateway-consumer", "gateway-consumer", "gateway", "consumer"),
)
BY_NAME = {process.name: process for process in PROCESSES}

# Who the development employees are in ERP (ids fixed in shared-schemas, design §7); the
# sales rep reports to the sales manager, so reassignment on termination has somewhere to go.
DEVELOPMENT_EMPLOYEES = (
    ("admin", "Ada Admin", "Administrator", None),
    ("sales_manager", "Sam Salesmanager", "Head of Sales", None),
    ("sales", "Sasha Sales", "Account Executive", "sales_manager"),
    ("support", "Sol Support", "Support Agent", None),
    ("warehouse", "Wes Warehouse", "Warehouse Clerk", None),
    ("finance", "Fran Finance", "Accountant", None),
    ("hr", "Harper Hr", "People Partner", None),
)


class PlatformFailed(RuntimeError):
    """The platform did not come up (a port was taken, a migration failed, a process or the
    broker exited, or it was not ready or settled in time)."""


class Platform:
    """Start, stop and restart the platform's processes; their output goes to one log file
    each under `logs`, and to `echo` (the terminal of `make run`) prefixed by process."""

    def __init__(
        self,
        data: Path,
        *,
        ports: Ports | None = None,
        database_urls: dict[str, str] | None = None,
        environment: dict[str, str] | None = None,
        echo: Callable[[str], None] | None = None,
        logs: Path | None = None,
    ) -> None:
        self.data = data
        self.logs = logs or data / "logs"
        self.ports = ports or Ports()
        self.database_urls = database_urls or {
            name: f"sqlite+aiosqlite:///{data / f'{name}.db'}" for name in SERVICES
        }
        self.extra_environment = environment or {}
        self.echo = echo
        self.broker = EmbeddedBroker(self.ports.broker, log_path=self.logs / "broker.log")
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self._pumps: dict[str, asyncio.Task[None]] = {}
        self._width = max(len(process.name) for process in PROCESSES) + 1

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}"

    def url_of(self, service: str) -> str:
        port = {"crm": self.ports.crm, "erp": self.ports.erp, "gateway": self.ports.gateway}
        return f"http://127.0.0.1:{port[service]}"

    def ready_url(self, name: str) -> str:
        """Where the process answers once it is up: an API's /readyz (its database
        reachable), a relay's or consumer's /metrics on its metrics port (served once it
        has read its settings and built its workers; compose and Kubernetes probe the
        same)."""
        process = BY_NAME[name]
        if process.kind == "api":
            return self.url_of(process.service) + "/readyz"
        relay, consumer = self.ports.workers[process.service]
        return f"http://127.0.0.1:{relay if process.kind == 'relay' else consumer}/metrics"

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap_servers,
            "GATEWAY_CRM_URL": self.url_of("crm"),
            "GATEWAY_ERP_URL": self.url_of("erp"),
        }
        for service in SERVICES:
            prefix = service.upper()
            relay, consumer = self.ports.workers[service]
            env[f"{prefix}_DATABASE_URL"] = self.database_urls[service]
            env[f"{prefix}_PORT"] = str(getattr(self.ports, service))
            env[f"{prefix}_RELAY_METRICS_PORT"] = str(relay)
            env[f"{prefix}_CONSUMER_METRICS_PORT"] = str(consumer)
        return {**env, **self.extra_environment}

    async def migrate(self) -> None:
        """Every service's migrations, the three databases at once; each one's output goes
        to `migrate-<service>.log` and to `echo`."""
        self.logs.mkdir(parents=True, exist_ok=True)
        await asyncio.gather(*(self._migrate(service) for service in SERVICES))

    async def _migrate(self, service: str) -> None:
        name = f"migrate-{service}"
        config = ROOT / FOLDERS[service] / "alembic.ini"
        migration = await asyncio.create_subprocess_exec(
            str(BIN / "python"),
            "-c",
            MIGRATE,
            "-c",
            str(config),
            "upgrade",
            "head",
            cwd=ROOT,
            env=self.environment(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert migration.stdout is not None
        output: list[bytes] = []
        try:
            await self._pump(name, migration.stdout, log=self.logs / f"{name}.log", keep=output)
            await migration.wait()
        except asyncio.CancelledError:  # Ctrl-C during start-up: leave no migration behind
            if migration.returncode is None:
                migration.kill()
            await migration.wait()
            raise
        if migration.returncode != 0:
            raise PlatformFailed(f"{service} migrations failed:\n{b''.join(output).decode()}")

    def check_ports(self) -> None:
        """Every port free on 127.0.0.1 and none given twice, before anything starts: a
        leftover of an earlier run holding one would answer in place of what this run
        starts (and on the broker's port, the services would use that other broker)."""
        problems: list[tuple[str, str]] = []  # (what is wrong, the setting that moves it)
        claimed: dict[int, str] = {}
        for port, use, setting in self.ports.uses():
            if port in claimed:
                problems.append(
                    (f"port {port} is given to both {claimed[port]} and {use}", setting)
                )
                continue
            claimed[port] = use
            error = bind_error(port)
            if error is not None:
                problem = f"port {port} ({use}, {setting}) is {describe_bind_error(error)}"
                problems.append((problem, setting))
        if problems:
            raise PlatformFailed(
                "".join(f"  {problem}\n" for problem, _ in problems)
                + "  Stop what holds a taken port (an earlier run still going?) or move the port"
                f" with its setting, e.g. {problems[0][1]}=<port> make run."
            )

    async def start(self, *, within: float = 90.0) -> None:
        """Check the ports, migrate, start the broker (every topic created before any
        producer runs, so none is auto-created with the wrong partition count), every
        process, and wait until each answers (the APIs ready, the relays and consumers
        serving their metrics); then make sure the development employees exist and wait
        until everything has settled."""
        self.check_ports()
        self.logs.mkdir(parents=True, exist_ok=True)
        await self.migrate()
        broker_log = self.broker.log_path
        assert broker_log is not None
        written = broker_log.stat().st_size if broker_log.exists() else 0
        await self.broker.start()
        if self.echo is not None:
            # The broker writes its log file itself; the terminal gets what this run adds.
            self._pumps["broker"] = asyncio.create_task(
                self._pump("broker", _follow(broker_log, written))
            )
        for process in PROCESSES:
            await self.start_process(process.name)
        await self.wait_ready(within=within)
        await ensure_development_employees(self.gateway_url)
        await self.wait_settled(within=within)

    async def start_process(self, name: str) -> None:
        if name in self.processes and self.processes[name].returncode is None:
            raise PlatformFailed(f"{name} is already running")
        process = await asyncio.create_subprocess_exec(
            str(BIN / BY_NAME[name].script),
            cwd=ROOT,
            env=self.environment(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the launcher only; it stops them in order
        )
        self.processes[name] = process
        assert process.stdout is not None
        self._pumps[name] = asyncio.create_task(
            self._pump(name, process.stdout, log=self.logs / f"{name}.log")
        )

    async def stop_process(self, name: str, *, grace: float = 20.0, crash: bool = False) -> None:
        """SIGTERM and wait (SIGKILL after `grace` seconds); `crash`: SIGKILL at once, no
        clean-up, as a crash or an OOM kill."""
        process = self.processes[name]
        if process.returncode is None:
            process.send_signal(signal.SIGKILL if crash else signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                process.kill()
                await process.wait()
        pump = self._pumps.pop(name, None)
        if pump is not None:
            await asyncio.wait_for(pump, 5)

    def pause_process(self, name: str) -> None:
        """Freeze a process (SIGSTOP): it keeps its connections and its place in its
        consumer group while the pause is shorter than the session timeout, but does
        nothing; `resume_process` thaws it."""
        self.processes[name].send_signal(signal.SIGSTOP)

    def resume_process(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGCONT)

    async def wait_ready(self, names: list[str] | None = None, *, within: float = 90.0) -> None:
        """Until every named process (all by default) answers at its `ready_url` itself: an
        answer from another program holding its port does not count. Fails as soon as a
        process or the broker has exited."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2.0) as client:
            for name in names or list(BY_NAME):
                url = self.ready_url(name)
                port = urlsplit(url).port
                assert port is not None
                elsewhere = f"; another program answers at {url} (holding port {port})"
                impostor = False
                while True:
                    self._fail_if_exited(elsewhere if impostor else "")
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get(url)).status_code == 200:
                            if self._listens(name, port):
                                break
                            impostor = True
                    if time.monotonic() > deadline:
                        if impostor:
                            raise PlatformFailed(f"{name} not listening{elsewhere}")
                        raise PlatformFailed(f"{url} not ready within {within:.0f}s")
                    await asyncio.sleep(0.2)

    def _listens(self, name: str, port: int) -> bool:
        """Whether the process `name` started here holds its port (so its answer is its
        own); a name not started here counts whoever answers."""
        process = self.processes.get(name)
        return process is None or listens_on(process.pid, port) is not False

    def _fail_if_exited(self, detail: str = "") -> None:
        code = self.broker.returncode
        if code is not None:
            raise PlatformFailed(f"the broker exited with code {code}")
        if self.exited():
            exits = ", ".join(
                f"{name} (code {self.processes[name].returncode})" for name in self.exited()
            )
            raise PlatformFailed(f"exited during start-up: {exits}{detail}")

    async def wait_settled(self, *, within: float = 60.0) -> None:
        """Until both services' outboxes are published and every consumer has caught up
        with its partitions: what was done before is then visible everywhere (CRM knows
        the employees just hired in ERP, say)."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.gateway_url, timeout=5.0) as client:
            headers = {"Authorization": f"Bearer {await sign_in(client, 'admin', 'dev-admin')}"}
            while True:
                pending = [
                    (await client.get(f"/api/{service}/admin/outbox", headers=headers)).json()
                    for service in ("crm", "erp")
                ]
                lags = [
                    await _consumer_lags(client, self.ports.workers[service][1])
                    for service in SERVICES
                ]
                published = all(outbox.get("pending") == 0 for outbox in pending)
                caught_up = all(lag and not any(lag) for lag in lags)
                if published and caught_up:
                    return
                if self.broker.returncode is not None:
                    raise PlatformFailed(f"the broker exited with code {self.broker.returncode}")
                if time.monotonic() > deadline:
                    raise PlatformFailed(f"not settled within {within:.0f}s: {pending}, {lags}")
                await asyncio.sleep(0.2)

    def exited(self) -> list[str]:
        return [name for name, process in self.processes.items() if process.returncode is not None]

    async def stop(self) -> None:
        """Every process in reverse order of start (SIGTERM, then SIGKILL after 15 s), then the
        broker."""
        running = [name for name in reversed(self.processes) if name not in self.exited()]
        for name in running:
            self.processes[name].send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name in running:
            process = self.processes[name]
            try:
                await asyncio.wait_for(process.wait(), max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                process.kill()
                await process.wait()
        for pump in self._pumps.values():
            pump.cancel()
        self.broker.stop()

    async def _pump(
        self,
        name: str,
        lines: AsyncIterator[bytes],
        *,
        log: Path | None = None,
        keep: list[bytes] | None = None,
    ) -> None:
        """Each line to the log file `log` (when given), to `keep` (when given) and to
        `echo`, prefixed by `name`."""
        names = list(BY_NAME)
        colour = COLOURS[names.index(name) % len(COLOURS)] if name in names else "90"
        plain = f"{name.ljust(self._width)}| "
        prefix = f"\x1b[{colour}m{name.ljust(self._width)}|\x1b[0m " if _tty() else plain
        with contextlib.ExitStack() as files:
            log_file: IO[bytes] | None = files.enter_context(log.open("ab")) if log else None
            async for line in lines:
                if log_file is not None:
                    log_file.write(line)
                    log_file.flush()
                if keep is not None:
                    keep.append(line)
                if self.echo is not None:
                    self.echo(prefix + line.decode(errors="replace"))


async def _follow(path: Path, offset: int) -> AsyncIterator[bytes]:
    """The lines written to `path` after `offset`, as they come, until cancelled (polled:
    the file is written by another process)."""
    with path.open("rb") as file:
        file.seek(offset)
        partial = b""
        while True:
            partial += file.readline()
            if partial.endswith(b"\n"):
                yield partial
                partial = b""
            else:
                await asyncio.sleep(0.2)


async def _consumer_lags(client: httpx.AsyncClient, metrics_port: int) -> list[float]:
    """The lag of every partition a consumer process has been assigned and fetched from
    (empty before its first assignment), from its metrics."""
    try:
        text = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
    except httpx.TransportError:
        return []
    return [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("consumer_lag{")
    ]


def _tty() -> bool:
    return sys.stdout.isatty()


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> str:
    """An access token of the gateway for a user (OAuth2 password form)."""
    response = await client.post(
        "/auth/token", data={"grant_type": "password", "username": username, "password": password}
    )
    if response.status_code != 200:
        raise PlatformFailed(f"sign-in as {username}: {response.status_code} {response.text}")
    return str(response.json()["access_token"])


async def ensure_development_employees(gateway_url: str) -> list[str]:
    """Hire the development employees in ERP under their fixed ids, through the gateway as
    the development hr user, unless they exist; returns the roles hired now."""
    hired: list[str] = []
    async with httpx.AsyncClient(base_url=gateway_url, timeout=10.0) as client:
        token = await sign_in(client, "hr", "dev-hr")
        headers = {"Authorization": f"Bearer {token}"}
        for role, name, title, manager in DEVELOPMENT_EMPLOYEES:
            employee_id = DEVELOPMENT_EMPLOYEE_IDS[role]
            found = await client.get(f"/api/erp/employees/{employee_id}", headers=headers)
            if found.status_code == 200:
                continue
            if found.status_code != 404:
                raise PlatformFailed(f"reading employee {role}: {found.status_code} {found.text}")
            body = {
                "id": employee_id,
                "name": name,
                "email": f"{role.replace('_', '.')}@example.com",
                "title": title,
                "role": role,
                "manager_id": DEVELOPMENT_EMPLOYEE_IDS[manager] if manager else None,
            }
            created = await client.post(
                "/api/erp/employees",
                json=body,
                headers={**headers, "Idempotency-Key": f"development-employee-{role}"},
            )
            if created.status_code != 201:
                raise PlatformFailed(f"hiring {role}: {created.status_code} {created.text}")
            hired.append(role)
    return hired
