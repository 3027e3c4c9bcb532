"""Starting the probe worker as a subprocess and killing it at a chosen point."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    def __init__(
        self,
        role: str,
        *,
        database_url: str,
        bootstrap: str,
        topic: str,
        group: str = "probe",
        block_after: int = 0,
        marker: Path | None = None,
        log_path: Path | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        command = [
            sys.executable,
            "-m",
            "tests.support.probe_worker",
            role,
            "--database-url",
            database_url,
            "--bootstrap-servers",
            bootstrap,
            "--topic",
            topic,
            "--group",
            group,
        ]
        if block_after:
            assert marker is not None
            command += ["--block-after", str(block_after), "--marker", str(marker)]
        command += extra_args or []
        self.marker = marker
        self._log = (log_path or Path(os.devnull)).open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )

    async def wait_until_blocked(self, timeout: float = 60.0) -> None:
        assert self.marker is not None
        deadline = time.monotonic() + timeout
        while not self.marker.exists():
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise AssertionError("worker never reached its blocking point")
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no cleanup, no offset commit, no marking, exactly like a crash."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class ServiceProcess:
    """One of the platform's console scripts (`crm-api`, `erp-relay`, ...) as a process."""

    def __init__(self, script: str, env: dict[str, str], log_path: Path) -> None:
        self.script = script
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / script)],
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
        )

    def running(self) -> bool:
        return self.process.poll() is None

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait: the exit code of a clean shutdown is 0."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.script} ignored SIGTERM for {timeout}s") from None
        finally:
            self._log.close()
        return code

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")
