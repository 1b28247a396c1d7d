"""A small TCP proxy for tests: put it between the bot and PostgreSQL, then ``cut()`` it to
make the database vanish as a restart does (live connections drop, new ones are refused)
and ``restore()`` it to bring the database back on the same port. ``blackhole()`` makes the
live connections go silent instead (a half-open link: bytes vanish, nothing is closed),
while new connections work."""

from __future__ import annotations

import asyncio
import contextlib
import socket

CHUNK = 64 * 1024


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``upstream_host:upstream_port``, byte for byte."""

    def __init__(self, upstream_host: str, upstream_port: int, *, host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = host
        self.port = 0
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._silent: set[asyncio.StreamWriter] = set()

    @property
    def cut_off(self) -> bool:
        return self._server is None

    async def start(self) -> int:
        """Listen (on an ephemeral port the first time) and return the port."""
        await self._listen()
        return self.port

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, reuse_address=True, family=socket.AF_INET
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def cut(self) -> None:
        """Stop listening (new connections are refused) and drop every live connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=1)

    def blackhole(self) -> None:
        """From now on drop whatever the live connections carry, either way, and close
        nothing: as a link that died without a reset looks to both ends."""
        self._silent.update(self._writers)

    async def restore(self) -> None:
        """Accept connections again, on the same port; connections made silent are reset
        (the link is back, the state on both ends of them is not)."""
        for writer in list(self._silent):
            writer.transport.abort()
        await self._listen()

    async def stop(self) -> None:
        await self.cut()

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self._server is None:  # accepted in the instant before a cut
            client_w.transport.abort()
            return
        self.accepted += 1
        try:
            upstream_r, upstream_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_w.transport.abort()
            return
        if self._server is None:
            client_w.transport.abort()
            upstream_w.transport.abort()
            return
        self._writers.update((client_w, upstream_w))
        pumps = [
            asyncio.create_task(self._pump(client_r, upstream_w)),
            asyncio.create_task(self._pump(upstream_r, client_w)),
        ]
        self._tasks.update(pumps)
        try:
            await asyncio.gather(*pumps, return_exceptions=True)
        finally:
            self._tasks.difference_update(pumps)
            for writer in (client_w, upstream_w):
                self._writers.discard(writer)
                self._silent.discard(writer)
                writer.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction until EOF; then close the other side's writing half too."""
        try:
            while data := await reader.read(CHUNK):
                if writer in self._silent:
                    continue
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()
