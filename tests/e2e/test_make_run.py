"""`make run` as a developer meets it: everything starts, the URLs and logins are printed,
every process's output (the broker's and the migrations' too) reaches the terminal prefixed
by its name and a log file, a process that dies is started again, and Ctrl-C stops every
process, even while `SEED=1` is still loading the demo company. A port already taken stops
it before it starts anything; the broker exiting stops everything."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.local.launcher import Platform, Ports
from deploy.local.run import supervise
from shared_schemas.broker import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = (
    "crm-api",
    "crm-relay",
    "crm-consumer",
    "erp-api",
    "erp-relay",
    "erp-consumer",
    "gateway",
    "gateway-relay",
    "gateway-consumer",
)


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def descendants(pid: int) -> set[int]:
    """Every process below `pid`: its children, theirs, and so on (from /proc)."""
    found: set[int] = set()
    parents = [pid]
    while parents:
        parent = parents.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = {int(child) for child in (task / "children").read_text().split()}
            except OSError:  # it exited meanwhile
                continue
            parents.extend(children - found)
            found |= children
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def started_with(variable: str, value: str) -> list[int]:
    """The processes (not zombies) whose environment holds `variable`=`value`: all a
    launcher started inherit its environment."""
    entry = f"{variable}={value}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            holds = entry in environ.read_bytes().split(b"\0")
        except OSError:  # exited meanwhile, or not ours to read
            continue
        if holds and alive(int(environ.parent.name)):
            found.append(int(environ.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


PORT_SETTINGS = ["GATEWAY_PORT", "CRM_PORT", "ERP_PORT", "BROKER_PORT"] + [
    f"{service}_{worker}_METRICS_PORT"
    for service in ("CRM", "ERP", "GATEWAY")
    for worker in ("RELAY", "CONSUMER")
]


def test_make_run_starts_everything_prints_the_logins_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    # Every port moved to a free one, the metrics ports too: the test runs beside a
    # `make run` on the defaults, as a second `make run` would.
    ports = {name: free_port() for name in PORT_SETTINGS}
    output = tmp_path / "terminal.txt"
    with output.open("wb") as terminal:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "deploy.local.run"],
            cwd=ROOT,
            env={
                **os.environ,
                **{k: str(v) for k, v in ports.items()},
                "PLATFORM_DATA_DIR": str(tmp_path),
                "SEED": "1",
            },
            stdout=terminal,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
        children: set[int] = set()
        try:
            deadline = time.monotonic() + 180
            # Ctrl-C once the demo company has started loading: it stops the seed too.
            while "Loading the demo company" not in output.read_text(errors="replace"):
                assert launcher.poll() is None, output.read_text(errors="replace")
                assert time.monotonic() < deadline, output.read_text(errors="replace")
                time.sleep(0.5)
            for name, port in ports.items():
                assert listening(port), f"nothing listens on {name} {port}"
            children = descendants(launcher.pid)
            # A process that dies (here as an OOM kill would end it) is started again.
            [doomed] = [pid for pid in children if "erp-consumer" in command_line(pid)]
            os.kill(doomed, signal.SIGKILL)
            restarted = "erp-consumer exited with code -9; starting it again"
            while restarted not in output.read_text(errors="replace"):
                assert launcher.poll() is None, output.read_text(errors="replace")
                assert time.monotonic() < deadline, output.read_text(errors="replace")
                time.sleep(0.2)
            children |= descendants(launcher.pid)
            [successor] = [pid for pid in children if "erp-consumer" in command_line(pid)]
            assert successor != doomed
        finally:
            os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
            interrupted = time.monotonic()
            code = launcher.wait(60)
            stopped_in = time.monotonic() - interrupted

    printed = output.read_text(errors="replace")
    assert code == 130, printed
    assert "Demo company interrupted" in printed, printed
    assert "Demo company loaded" not in printed
    assert stopped_in < 30, f"Ctrl-C took {stopped_in:.0f}s to stop everything"
    assert f"gateway      http://127.0.0.1:{ports['GATEWAY_PORT']}" in printed
    assert "/docs" in printed
    for role in ("admin", "sales", "sales_manager", "support", "warehouse", "finance", "hr"):
        assert f"{role:<14} password dev-{role}" in printed
    for process in PROCESSES:
        assert f"{process.ljust(17)}| " in printed, f"no output of {process} in the terminal"
        assert (tmp_path / "logs" / f"{process}.log").stat().st_size > 0
    # The broker writes its own log file; the migrations' go to migrate-<service>.log.
    for name in ("broker", "migrate-crm", "migrate-erp", "migrate-gateway"):
        assert f"{name.ljust(17)}| " in printed, f"no output of {name} in the terminal"
    for service in ("crm", "erp", "gateway"):
        assert (tmp_path / "logs" / f"migrate-{service}.log").stat().st_size > 0
    assert "Traceback" not in printed
    # The processes it started (each service's three, the broker): none outlives Ctrl-C.
    assert len(children) >= len(PROCESSES) + 1, f"found only these children: {children}"
    survivors = sorted(pid for pid in children if alive(pid))
    assert not survivors, f"still running after Ctrl-C: {survivors}"
    for name, port in ports.items():
        assert not listening(port), f"{name} {port} still answers after Ctrl-C"


def test_make_run_refuses_the_ports_other_programs_hold_and_starts_nothing(
    tmp_path: Path,
) -> None:
    """A leftover of an earlier run on a service's port would answer in place of the API
    started now; one on the broker's port would take every event."""
    ports = {name: free_port() for name in PORT_SETTINGS}
    taken = ("CRM_PORT", "BROKER_PORT")
    with contextlib.ExitStack() as holders:
        for name in taken:
            holder = holders.enter_context(socket.socket())
            holder.bind(("127.0.0.1", ports[name]))
            holder.listen()
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "deploy.local.run"],
            cwd=ROOT,
            env={
                **os.environ,
                **{k: str(v) for k, v in ports.items()},
                "PLATFORM_DATA_DIR": str(tmp_path),
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
        took = time.monotonic() - started
        printed = run.stdout + run.stderr
        assert run.returncode == 1, printed
        assert took < 30, f"took {took:.0f}s to refuse the ports"
        # Each port, what it is for, the setting that moves it, and what is wrong.
        for name in taken:
            assert f"port {ports[name]} (" in printed, printed
            assert f", {name}) is already in use" in printed, printed
        assert "Traceback" not in printed, printed
        # Nothing was started: no migration, no broker, no process, no port answering.
        assert not (tmp_path / "logs").exists()
        assert not started_with("PLATFORM_DATA_DIR", str(tmp_path))
        for name, port in ports.items():
            assert name in taken or not listening(port), f"{name} {port} answers"


async def test_the_broker_exiting_stops_make_run(tmp_path: Path) -> None:
    """The supervision of `make run` with its real broker: the broker holds the events in
    memory only, so a new one would carry on without them; the run stops instead."""
    platform = Platform(tmp_path, ports=Ports.free())
    stop = asyncio.Event()
    try:
        await platform.broker.start()
        broker = platform.broker.process
        assert broker is not None
        supervisor = asyncio.create_task(supervise(platform, stop))
        os.kill(broker.pid, signal.SIGKILL)
        reason = await asyncio.wait_for(supervisor, 10)
    finally:
        await platform.stop()
    assert stop.is_set()
    assert reason is not None
    assert "the broker exited with code -9" in reason, reason
    assert not alive(broker.pid)
    assert not listening(platform.ports.broker)
