"""The launcher of `make run` and the end-to-end tests, without starting the platform: it
calls the platform ready only once every process answers, the relays and consumers (which
have no API, only their metrics) included, and only when the process itself answers (a
leftover of an earlier run holding the port must not pass for it); no port is given
twice."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from deploy.local.launcher import BY_NAME, Platform, PlatformFailed, Ports

pytestmark = pytest.mark.deploy


@asynccontextmanager
async def answering(port: int) -> AsyncIterator[None]:
    """Something on 127.0.0.1:`port` that answers every request with 200, as a process
    serving its metrics does."""

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


def test_every_process_is_waited_for_where_it_answers(tmp_path: Path) -> None:
    ports = Ports.free()
    platform = Platform(tmp_path, ports=ports)
    urls = {name: platform.ready_url(name) for name in BY_NAME}
    assert urls["gateway"] == f"{platform.gateway_url}/readyz"
    assert urls["crm-api"] == f"{platform.url_of('crm')}/readyz"
    assert urls["erp-api"] == f"{platform.url_of('erp')}/readyz"
    for service, (relay, consumer) in ports.workers.items():
        assert urls[f"{service}-relay"] == f"http://127.0.0.1:{relay}/metrics"
        assert urls[f"{service}-consumer"] == f"http://127.0.0.1:{consumer}/metrics"
    assert len(set(urls.values())) == len(urls), urls


async def test_the_platform_is_not_ready_until_the_gateway_relay_answers(tmp_path: Path) -> None:
    platform = Platform(tmp_path, ports=Ports.free())
    url = platform.ready_url("gateway-relay")
    with pytest.raises(PlatformFailed, match="not ready"):
        await platform.wait_ready(["gateway-relay"], within=0.5)
    port = urlsplit(url).port
    assert port is not None
    async with answering(port):
        await platform.wait_ready(["gateway-relay"], within=10)


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
