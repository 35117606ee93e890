"""WebSocket frames written whole, whatever the WSGI server under simple-websocket.

simple-websocket (the WebSocket server Engine.IO uses under threading, and
under gevent when gevent-websocket is not installed, as the deployment docs
recommend) writes each frame with a single ``socket.send()``. Under gevent
that call writes what fits in the kernel's send buffer and returns the count,
which simple-websocket ignores: with a subscriber that reads slowly, the rest
of a large frame was dropped, the next frame's header landed inside the
payload and the client was disconnected (seen with records of 500 KB).
eventlet's and gevent-websocket's servers use ``sendall()`` and are not
affected.

:class:`WholeFrames` hands simple-websocket a socket whose ``send()`` writes
until done (``sendall()``), one writer at a time, within a deadline: a client
that accepts no data for ``ping_interval + ping_timeout`` seconds is gone (the
same timeout Engine.IO tries to put on the socket itself), so the connection
is shut down rather than a writer waiting on it forever.

Where simple-websocket finds the connection's socket in the WSGI environ is
its own business: :func:`flask_sockpub.internals.replace_websocket_socket`
knows it (tests/test_internals.py and tests/test_whole_frames.py fail if that
changes).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from .internals import replace_websocket_socket

logger = logging.getLogger("flask_sockpub")


class WholeWrites:
    """A socket whose ``send()`` writes everything, under a lock, within a deadline.

    Everything else is the wrapped socket's own.

    :param write_timeout: seconds a whole frame may take to leave; past it the
        connection is shut down and ``send()`` raises ``TimeoutError``.
    """

    def __init__(self, sock: Any, write_timeout: float, lock: Any = None) -> None:
        self._sock = sock
        self._write_timeout = write_timeout
        self._lock = lock if lock is not None else threading.Lock()
        sock.settimeout(write_timeout)

    #: The end of a frame :meth:`write_nowait` could not write at once: the
    #: next write sends it first.
    _tail = b""

    def send(self, data: bytes, flags: int = 0) -> int:
        with self._lock:
            try:
                if self._tail:
                    tail, self._tail = self._tail, b""
                    self._sock.sendall(tail)
                self._sock.sendall(data, flags)
            except TimeoutError:
                logger.warning(
                    "closing a WebSocket whose client accepted no data for %.0f s",
                    self._write_timeout,
                )
                self.shutdown_quietly()
                raise
        return len(data)

    sendall = send

    def writes_nowait(self) -> bool:
        """Whether :meth:`write_nowait` can work here: a plain (not TLS) socket in non-blocking mode."""
        if hasattr(self._sock, "cipher"):  # TLS: bytes must go through the TLS layer
            return False
        try:
            return not os.get_blocking(self._sock.fileno())
        except (OSError, ValueError):
            return False

    def write_nowait(self, data: bytes) -> bool | None:
        """Write ``data`` now, without waiting for the client, unless another write is under way.

        What the kernel does not take at once is kept and written first by
        the next :meth:`send`: the caller must make sure one comes. Returns
        ``None`` when another write holds the connection (nothing written),
        ``True`` when part of ``data`` waits for the next :meth:`send`,
        ``False`` when all of it left (or the connection is gone).
        """
        if not self._lock.acquire(blocking=False):
            return None
        try:
            descriptor = self._sock.fileno()
            if descriptor < 0:  # closed
                return False
            pending = self._tail + data if self._tail else data
            try:
                written = os.write(descriptor, pending)
            except BlockingIOError:
                written = 0
            except OSError:  # the connection is gone: its reader ends the socket
                self._tail = b""
                return False
            self._tail = pending[written:]
            return bool(self._tail)
        finally:
            self._lock.release()

    def wait_for_writes(self) -> None:
        """Return once no write holds the connection."""
        with self._lock:
            pass

    def close(self) -> None:
        """Close the socket once no write holds it, so a write never lands on a reused descriptor."""
        with self._lock:
            self._sock.close()

    def dup(self) -> WholeWrites:
        # gevent's pywsgi: simple-websocket writes on a duplicate of the socket.
        return WholeWrites(self._sock.dup(), self._write_timeout, gevent_lock())

    def shutdown_quietly(self) -> None:
        """Shut the connection down both ways, so the reader ends too."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def gevent_lock() -> Any:
    """A lock greenlets can share whether or not the process is monkey-patched."""
    from gevent.lock import Semaphore

    return Semaphore()


class WholeFrames:
    """WSGI middleware: on WebSocket handshakes, give simple-websocket a :class:`WholeWrites` socket.

    :param write_timeout: a function returning the deadline for one frame, in
        seconds (read at each handshake, once the Engine.IO server exists).
    """

    def __init__(
        self, wsgi_app: Callable[..., Iterable[bytes]], write_timeout: Callable[[], float]
    ) -> None:
        self.wsgi_app = wsgi_app
        self.write_timeout = write_timeout

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if (
            environ.get("HTTP_UPGRADE", "").lower() == "websocket"
            and "wsgi.websocket" not in environ
        ):
            wrap_connection_socket(environ, self.write_timeout())
        return self.wsgi_app(environ, start_response)


def wrap_connection_socket(environ: dict[str, Any], write_timeout: float) -> None:
    """Replace the socket simple-websocket will find in ``environ`` with a :class:`WholeWrites` one."""
    if "eventlet.input" in environ:  # eventlet's own WebSocket server writes whole frames
        return

    def wrap(sock: Any, duplicated: bool) -> WholeWrites:
        # A socket simple-websocket dup()s is not written on itself:
        # WholeWrites.dup() sets the timeout on the duplicate only.
        return _Undupped(sock, write_timeout) if duplicated else WholeWrites(sock, write_timeout)

    replace_websocket_socket(environ, wrap)


class _Undupped(WholeWrites):
    """The pywsgi connection socket itself: left as it is until simple-websocket dup()s it."""

    def __init__(self, sock: Any, write_timeout: float) -> None:  # no settimeout on the original
        self._sock = sock
        self._write_timeout = write_timeout
        self._lock = gevent_lock()
