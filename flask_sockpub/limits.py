"""Limits per socket and per client address, so that one client cannot hurt the others.

Each is a ``SOCKPUB_*`` setting (:mod:`flask_sockpub.config`) with a default a
normal page never reaches:

* events in flight per socket (``SOCKPUB_MAX_REQUESTS_IN_FLIGHT``): past it an
  event is answered at once with a 429 JWR, instead of queueing work without
  bound (3,000 pipelined requests from one socket starved every other socket
  for 15 s); of those, ``SOCKPUB_MAX_REQUESTS_RUNNING`` run at once, the
  others wait their turn without holding up other sockets;
* events per second per socket (``SOCKPUB_MAX_REQUESTS_PER_SECOND``, off by
  default): past it, a 429 JWR;
* sockets per client address (``SOCKPUB_MAX_SOCKETS_PER_ADDRESS``, off by
  default): past it the connection is refused;
* bytes queued for one socket (``SOCKPUB_MAX_QUEUED_BYTES``): past it the
  socket is disconnected, with a logged reason, and its queue dropped;
* access-log lines for refused events (``SOCKPUB_REFUSED_LOG_RATE``): each
  socket's are rate-limited, the number left out logged when logging resumes.

The policy lives here; how it is hooked into python-socketio and Engine.IO is
in :mod:`flask_sockpub.admission`.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from time import monotonic
from typing import Any

from .serving.proxies import client_address
from .state import app_state, has_state

access_log = logging.getLogger("flask_sockpub.access")

#: Connection environ key of the socket's :class:`SocketLimits`.
SOCKET_LIMITS_KEY = "sockpub.limits"
#: Connection environ key of the address a socket was counted under.
COUNTED_ADDRESS_KEY = "sockpub.counted_address"
#: Refused-event log lines a socket may write in a burst, in seconds of ``SOCKPUB_REFUSED_LOG_RATE``.
LOG_BURST_SECONDS = 10


def counted_address(environ: dict[str, Any]) -> str:
    """The client address sockets are counted under.

    The connection's address, or behind a declared reverse proxy
    (``SOCKPUB_TRUSTED_PROXIES`` or Werkzeug's ``ProxyFix``) the client's
    address the proxy forwards: :func:`flask_sockpub.serving.proxies.client_address`.
    """
    return client_address(environ) or "unknown"


@dataclass(frozen=True)
class LimitSettings:
    """The limits of one app, read from its ``SOCKPUB_*`` settings."""

    max_in_flight: int
    max_running: int
    max_per_second: float | None
    max_per_address: int | None
    max_queued_bytes: int
    refused_log_rate: float

    @classmethod
    def from_config(cls, config: Any) -> LimitSettings:
        """Read the settings from a Flask ``app.config``."""

        def optional(key: str) -> float | None:
            value = config[key]
            return None if value is None else float(value)

        per_address = config["SOCKPUB_MAX_SOCKETS_PER_ADDRESS"]
        return cls(
            max_in_flight=int(config["SOCKPUB_MAX_REQUESTS_IN_FLIGHT"]),
            max_running=max(1, int(config["SOCKPUB_MAX_REQUESTS_RUNNING"])),
            max_per_second=optional("SOCKPUB_MAX_REQUESTS_PER_SECOND"),
            max_per_address=None if per_address is None else int(per_address),
            max_queued_bytes=int(config["SOCKPUB_MAX_QUEUED_BYTES"]),
            refused_log_rate=float(config["SOCKPUB_REFUSED_LOG_RATE"]),
        )


class TokenBucket:
    """``rate`` events per second on average, bursts of up to ``burst``."""

    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = monotonic()

    def take(self) -> bool:
        """Take one token if there is one."""
        now = monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class QueuedBytes:
    """The sizes of the packets in one socket's outgoing queue, oldest first."""

    __slots__ = ("overflowed", "sizes", "total")

    def __init__(self) -> None:
        self.sizes: deque[int] = deque()
        self.total = 0
        self.overflowed = False

    def add(self, size: int, queued: int) -> int:
        """Count a packet of ``size`` just queued, ``queued`` packets being in the queue now; the total."""
        self.sizes.append(size)
        self.total += size
        # The writer takes packets from the front: those beyond the queue's
        # length have left. (Packets Engine.IO queues itself, pings, are not
        # counted and make this overestimate a little.)
        while len(self.sizes) > queued:
            self.total -= self.sizes.popleft()
        return self.total


class SocketLimits:
    """What the limits keep about one socket (in its connection environ, gone with it)."""

    __slots__ = ("in_flight", "log_lines", "queued", "requests", "running", "unlogged")

    def __init__(self, settings: LimitSettings) -> None:
        #: Events admitted and not finished.
        self.in_flight = 0
        #: The semaphore of the events running (made by the first one).
        self.running: Any = None
        self.requests = (
            None
            if settings.max_per_second is None
            else TokenBucket(settings.max_per_second, max(1.0, settings.max_per_second))
        )
        self.log_lines = TokenBucket(
            settings.refused_log_rate, max(1.0, settings.refused_log_rate * LOG_BURST_SECONDS)
        )
        #: Refused events not logged since the last line.
        self.unlogged = 0
        #: The bytes waiting in the socket's outgoing queue.
        self.queued = QueuedBytes()


class Limits:
    """The limits of one app, and the sockets counted per client address."""

    def __init__(self, settings: LimitSettings) -> None:
        self.settings = settings
        self._per_address: dict[str, int] = {}
        self._lock = threading.Lock()

    def of_socket(self, environ: dict[str, Any]) -> SocketLimits:
        """The :class:`SocketLimits` of the socket whose connection environ is ``environ``."""
        found = environ.get(SOCKET_LIMITS_KEY)
        if found is None:
            found = environ[SOCKET_LIMITS_KEY] = SocketLimits(self.settings)
        return found  # type: ignore[no-any-return]

    def refusal(self, socket: SocketLimits) -> str | None:
        """Why a new event of ``socket`` is refused (429), or ``None`` to admit it."""
        if socket.in_flight >= self.settings.max_in_flight:
            return (
                f"too many requests in flight on this socket: the limit is "
                f"{self.settings.max_in_flight} (SOCKPUB_MAX_REQUESTS_IN_FLIGHT); "
                f"wait for answers before sending more"
            )
        if socket.requests is not None and not socket.requests.take():
            return (
                f"too many requests on this socket: the limit is {self.settings.max_per_second:g} "
                f"per second (SOCKPUB_MAX_REQUESTS_PER_SECOND)"
            )
        return None

    def admit_address(self, environ: dict[str, Any]) -> str | None:
        """Count a new socket under its client address; why it is refused, or ``None``."""
        limit = self.settings.max_per_address
        if limit is None:
            return None
        address = counted_address(environ)
        with self._lock:
            count = self._per_address.get(address, 0)
            if count >= limit:
                return (
                    f"too many sockets from this address: the limit is {limit} "
                    f"(SOCKPUB_MAX_SOCKETS_PER_ADDRESS)"
                )
            self._per_address[address] = count + 1
        environ[COUNTED_ADDRESS_KEY] = address
        return None

    def release_address(self, environ: dict[str, Any]) -> None:
        """Uncount a socket counted by :meth:`admit_address` (it left, or was refused after all)."""
        address = environ.pop(COUNTED_ADDRESS_KEY, None)
        if address is None:
            return
        with self._lock:
            count = self._per_address.get(address, 0) - 1
            if count > 0:
                self._per_address[address] = count
            else:
                self._per_address.pop(address, None)

    def log_refusal(self, environ: dict[str, Any] | None, message: str, *args: Any) -> None:
        """Write an access-log line for a refused event, within the socket's log rate."""
        if environ is None:
            access_log.info(message, *args)
            return
        socket = self.of_socket(environ)
        if not socket.log_lines.take():
            socket.unlogged += 1
            return
        if socket.unlogged:
            message += " (%d refused events of this socket not logged before this one)"
            args = (*args, socket.unlogged)
            socket.unlogged = 0
        access_log.info(message, *args)


def log_refusal(environ: dict[str, Any] | None, message: str, *args: Any) -> None:
    """Log a refused event of the socket of connection ``environ``, within its app's log rate."""
    app = environ.get("flask.app") if environ else None
    limits = app_state(app).limits if app is not None and has_state(app) else None
    if limits is None:
        access_log.info(message, *args)
    else:
        limits.log_refusal(environ, message, *args)
