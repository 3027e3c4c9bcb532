"""A TCP proxy on 127.0.0.1 for network faults between a client and its server (a
database, the broker): connections can be reset, the proxy cut (refusing connections)
and restored, or frozen (held open, nothing passed on: a peer that stopped answering)."""

from __future__ import annotations

import asyncio
import contextlib

from shared_schemas.broker import free_port


class TcpProxy:
    """127.0.0.1:`port` → `target`."""

    def __init__(self, target_host: str, target_port: int, port: int | None = None) -> None:
        self.target = (target_host, target_port)
        self.port = port or free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.connections = 0  # accepted so far: clients reconnecting after a fault show here

    async def restore(self) -> None:
        """Listen (again) on the same port."""
        self.server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)

    def reset(self) -> None:
        """Abort every open connection; new ones are accepted as before."""
        for writer in list(self.writers):
            writer.transport.abort()

    async def cut(self) -> None:
        """Stop listening and abort every connection: the server is unreachable."""
        assert self.server is not None
        self.server.close()
        self.reset()
        await self.server.wait_closed()
        self.server = None

    def freeze(self) -> None:
        """Connections stay open and new ones are accepted, but no byte goes through: a
        peer that stopped answering, the case no connection error announces."""
        self.flowing.clear()
        for writer in self.writers:
            writer.transport.pause_reading()

    def thaw(self) -> None:
        self.flowing.set()
        for writer in self.writers:
            if not writer.transport.is_closing():
                writer.transport.resume_reading()

    async def close(self) -> None:
        self.thaw()
        if self.server is not None:
            await self.cut()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await self.flowing.wait()
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, upstream_writer}

        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(copy(reader, upstream_writer), copy(upstream_reader, writer))
        self.writers -= {writer, upstream_writer}
