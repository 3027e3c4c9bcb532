"""A PostgreSQL server of a test's own, for a database that really goes down and comes
back (the shared server other tests use is never touched): `initdb` into a temporary
folder, one server on a free port of 127.0.0.1 with trust authentication, stopped and
started at will.

PostgreSQL refuses to run as root, so under root the server's commands run as the
`postgres` system user, which owns the folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

import pytest

from shared_schemas.broker import free_port
from tests.support.databases import postgres_required

StopMode = Literal["smart", "fast", "immediate"]


def _binary(name: str) -> str | None:
    """A PostgreSQL server program: on PATH, else from the newest installed version."""
    found = shutil.which(name)
    if found:
        return found
    installed = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return installed[-1] if installed else None


class PostgresCluster:
    def __init__(self, initdb: str, pg_ctl: str) -> None:
        self.initdb, self.pg_ctl = initdb, pg_ctl
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="pg-cluster-"))
        self.data = self.root / "data"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    async def _run(self, *command: str) -> None:
        def run() -> None:
            done = subprocess.run(
                [*self._as_user, *command], capture_output=True, text=True, timeout=60
            )
            if done.returncode != 0:
                raise RuntimeError(f"{command[0]} failed: {done.stdout}{done.stderr}")

        await asyncio.to_thread(run)

    async def create(self) -> None:
        await self._run(
            self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip

    async def start(self) -> None:
        """Start the server and return once it accepts connections."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        await self._run(
            self.pg_ctl, "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options,
            "-w", "-t", "30", "start",
        )  # fmt: skip

    async def stop(self, mode: StopMode = "fast") -> None:
        """`fast` ends every session with an administrator's shutdown (SQLSTATE 57P01);
        `immediate` is a crash: sessions are cut and the next start recovers."""
        await self._run(self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop")

    async def remove(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            await self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.asynccontextmanager
async def postgres_cluster() -> AsyncIterator[PostgresCluster]:
    """A running server of the test's own, removed afterwards."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        if postgres_required():
            pytest.fail("PostgreSQL is required but its server programs (initdb) are missing")
        pytest.skip("no PostgreSQL server programs (initdb, pg_ctl)")
    cluster = PostgresCluster(initdb, pg_ctl)
    try:
        await cluster.create()
        await cluster.start()
        yield cluster
    finally:
        await cluster.remove()
