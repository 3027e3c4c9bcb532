"""The launcher's ports, without starting the platform: none given twice, and an answer on a
process's port counts only when that process itself listens there (a leftover of an earlier
run holding the port must not pass for it)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from deploy.local.launcher import Platform, PlatformFailed, Ports

pytestmark = pytest.mark.deploy


@asynccontextmanager
async def answering(port: int) -> AsyncIterator[None]:
    """Another program on 127.0.0.1:`port` answering every request with 200."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()


async def test_an_answer_from_another_program_on_a_process_port_is_not_readiness(
    tmp_path: Path,
) -> None:
    """The process started now fails to bind the port a leftover holds and exits: start-up
    fails naming both, instead of calling it ready on the leftover's answer."""
    platform = Platform(tmp_path, ports=Ports.free())
    port = urlsplit(platform.ready_url("gateway-relay")).port
    assert port is not None
    async with answering(port):
        # Stands in for a relay that cannot bind its metrics port: up a moment, then gone.
        platform.processes["gateway-relay"] = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import sys, time; time.sleep(1); sys.exit(1)"
        )
        with pytest.raises(PlatformFailed) as failure:
            await platform.wait_ready(["gateway-relay"], within=30)
        await platform.processes["gateway-relay"].wait()
    assert "gateway-relay (code 1)" in str(failure.value)
    assert f"another program answers at http://127.0.0.1:{port}/metrics" in str(failure.value)


def test_a_port_given_twice_is_refused_before_anything_starts(tmp_path: Path) -> None:
    ports = Ports.free()
    platform = Platform(tmp_path, ports=Ports(ports.gateway, ports.crm, ports.crm, ports.broker))
    with pytest.raises(PlatformFailed, match=f"port {ports.crm} is given to both crm-service's"):
        platform.check_ports()
    assert not (tmp_path / "logs").exists()
