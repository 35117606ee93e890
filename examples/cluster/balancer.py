"""A round-robin TCP balancer: the load balancer stand-in of ``examples/cluster``.

Each new connection goes to the next process in turn; a process that
refuses the connection (stopped, restarting) is skipped. It has no sticky
sessions, so it suits WebSocket-only clients (the browser SDK's and the
Python client's default), whose every frame travels on one connection.
In production put a real load balancer (nginx, HAProxy, a cloud one) there.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging

logger = logging.getLogger("examples.cluster")

CHUNK = 65536


class Balancer:
    """Listens on ``port`` and hands each connection to one of ``backends`` (host, port)."""

    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = backends
        self._turn = itertools.cycle(range(len(backends)))

    async def serve(self, host: str, port: int) -> asyncio.Server:
        """Start listening on ``host:port``."""
        return await asyncio.start_server(self._connected, host, port, backlog=4096)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await self._open_backend()
        if upstream is None:
            writer.close()
            return
        backend_reader, backend_writer = upstream
        await asyncio.gather(
            pipe(reader, backend_writer), pipe(backend_reader, writer), return_exceptions=True
        )

    async def _open_backend(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """A connection to the next backend that accepts one, or ``None`` when none does."""
        for _ in self.backends:
            host, port = self.backends[next(self._turn)]
            try:
                return await asyncio.open_connection(host, port)
            except OSError:
                continue
        logger.warning("no process accepts connections")
        return None


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy ``reader`` to ``writer`` until either end closes, then close ``writer``."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()
