"""Every ``SOCKPUB_*`` setting with its default, in one place.

``SockPub.init_app`` copies these into ``app.config`` with ``setdefault``, so an
app overrides any of them by setting the key before (or after constructing the
app, before) ``init_app`` runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: URL of the queue that joins several server processes (``redis://...``,
#: ``amqp://...``, anything Flask-SocketIO accepts). ``None``: one process.
MESSAGE_QUEUE: str | None = None

#: The channel (Redis) or exchange (AMQP) name on the message queue. Every
#: process of one app, and its emitters, use the same; two apps sharing one
#: queue server use two. The default is Flask-SocketIO's.
QUEUE_CHANNEL: str = "flask-socketio"

#: Seconds between the heartbeats each server process sends on the queue.
HEARTBEAT_INTERVAL: float = 5.0

#: Seconds after its last heartbeat a silent process counts as gone: it is no
#: longer waited for by ``subscribers()``.
HEARTBEAT_EXPIRY: float = 15.0

#: Seconds ``subscribers()`` and a subscribe of a socket held by another
#: process wait for the other processes' answers, unless given ``timeout=``.
CLUSTER_TIMEOUT: float = 2.0

#: Origins allowed to open a socket besides the server's own: a list of origins,
#: or ``"*"`` to allow any. ``None`` allows the server's own origin only.
CORS_ALLOWED_ORIGINS: str | list[str] | None = None

#: Handshake headers a socket request's own ``headers`` cannot replace: the
#: request carries the handshake's value, or none. Case-insensitive; a name
#: ending in ``*`` covers every header it starts. ``Origin``, ``Cookie`` and
#: ``Host`` are protected whatever this says.
PROTECTED_HEADERS: tuple[str, ...] = (
    "Origin", "Cookie", "Host", "Forwarded", "X-Forwarded-*", "X-Real-IP",
)  # fmt: skip

#: How many reverse proxies stand in front of the app, each adding itself to
#: ``X-Forwarded-For`` (and setting ``X-Forwarded-Proto``/``-Host``/``-Port``).
#: ``0``: none, and those headers are not believed, unless the app wraps
#: ``app.wsgi_app`` in Werkzeug's ``ProxyFix``, whose counts are used then.
TRUSTED_PROXIES: int = 0

#: ``"message"``: Sails 0.9's ``{model, verb, id, data}`` on event ``message``;
#: ``"model"``: Sails 1.x style, one event per model identity.
EVENT_STYLE: str = "message"

#: Where the browser SDK is served; ``None`` to not serve it.
CLIENT_URL: str | None = "/sockpub/sockpub.js"

#: Largest socket request body accepted, in bytes; larger bodies get a 413 JWR.
MAX_PAYLOAD: int = 1024 * 1024

#: Accept per-message deflate when a client offers it (costs memory per socket).
WEBSOCKET_COMPRESSION: bool = False

#: Largest URL a socket request may carry, in characters (414 above it).
MAX_URL_LENGTH: int = 8 * 1024

#: A function of the session returning who it belongs to; when its value
#: changes, the session's sockets leave their rooms. ``None``: Flask-Login's
#: ``_user_id``.
SESSION_IDENTITY: Callable[[Any], Any] | None = None

#: Where the browser SDK follows a session rotated by a socket request (a
#: one-time URL under it sets the page's cookie); ``None`` to not serve it.
SESSION_FOLLOW_URL: str | None = "/sockpub/session"

#: Publish every commit of every :class:`~flask_sockpub.PubSub` model: each
#: row a commit through the Flask-SQLAlchemy session inserts, updates or
#: deletes is published after the commit (a model opts in alone with
#: ``__sockpub_autopublish__ = True``, or out with ``False``).
AUTO_PUBLISH: bool = False

#: ``MAX_CONTENT_LENGTH`` given to apps that set none, for HTTP request bodies.
DEFAULT_MAX_CONTENT_LENGTH: int = 16 * 1024 * 1024

#: Events one socket may have in flight (sent, not yet answered); past it an
#: event gets a 429 JWR at once. A page's burst of parallel requests stays far below.
MAX_REQUESTS_IN_FLIGHT: int = 100

#: Of a socket's events in flight, how many run at once; the others wait
#: their turn, so that one socket's backlog cannot crowd other sockets out.
MAX_REQUESTS_RUNNING: int = 4

#: Events one socket may send per second on average (bursts of one second's
#: worth); past it, a 429 JWR. ``None``: no rate limit.
MAX_REQUESTS_PER_SECOND: float | None = None

#: Sockets one client address may hold open in this process; past it the
#: connection is refused. ``None``: no limit (browsers behind one NAT or proxy
#: share an address).
MAX_SOCKETS_PER_ADDRESS: int | None = None

#: Bytes that may wait in one socket's outgoing queue (its client reads more
#: slowly than it is sent to); past it the socket is disconnected, with a
#: logged reason, and its queue dropped.
MAX_QUEUED_BYTES: int = 8 * 1024 * 1024

#: Access-log lines per second (bursts of ten seconds' worth) that one socket's
#: refused events (bad payloads, unknown events, 429s) may write; the number
#: left out is logged with the next line.
REFUSED_LOG_RATE: float = 10.0

#: Total bytes of binary attachments one event may carry. Socket requests are
#: JSON, so the default ``0`` refuses binary events (a 400 JWR); raise it for
#: plain Socket.IO handlers that take binary data.
MAX_BINARY_BYTES: int = 0

DEFAULTS: dict[str, Any] = {
    "SOCKPUB_MESSAGE_QUEUE": MESSAGE_QUEUE,
    "SOCKPUB_QUEUE_CHANNEL": QUEUE_CHANNEL,
    "SOCKPUB_HEARTBEAT_INTERVAL": HEARTBEAT_INTERVAL,
    "SOCKPUB_HEARTBEAT_EXPIRY": HEARTBEAT_EXPIRY,
    "SOCKPUB_CLUSTER_TIMEOUT": CLUSTER_TIMEOUT,
    "SOCKPUB_CORS_ALLOWED_ORIGINS": CORS_ALLOWED_ORIGINS,
    "SOCKPUB_EVENT_STYLE": EVENT_STYLE,
    "SOCKPUB_CLIENT_URL": CLIENT_URL,
    "SOCKPUB_MAX_PAYLOAD": MAX_PAYLOAD,
    "SOCKPUB_WEBSOCKET_COMPRESSION": WEBSOCKET_COMPRESSION,
    "SOCKPUB_MAX_URL_LENGTH": MAX_URL_LENGTH,
    "SOCKPUB_PROTECTED_HEADERS": PROTECTED_HEADERS,
    "SOCKPUB_TRUSTED_PROXIES": TRUSTED_PROXIES,
    "SOCKPUB_SESSION_IDENTITY": SESSION_IDENTITY,
    "SOCKPUB_SESSION_FOLLOW_URL": SESSION_FOLLOW_URL,
    "SOCKPUB_AUTO_PUBLISH": AUTO_PUBLISH,
    "SOCKPUB_MAX_REQUESTS_IN_FLIGHT": MAX_REQUESTS_IN_FLIGHT,
    "SOCKPUB_MAX_REQUESTS_RUNNING": MAX_REQUESTS_RUNNING,
    "SOCKPUB_MAX_REQUESTS_PER_SECOND": MAX_REQUESTS_PER_SECOND,
    "SOCKPUB_MAX_SOCKETS_PER_ADDRESS": MAX_SOCKETS_PER_ADDRESS,
    "SOCKPUB_MAX_QUEUED_BYTES": MAX_QUEUED_BYTES,
    "SOCKPUB_REFUSED_LOG_RATE": REFUSED_LOG_RATE,
    "SOCKPUB_MAX_BINARY_BYTES": MAX_BINARY_BYTES,
}

EVENT_STYLES = ("message", "model")


def transport_limit(max_payload: int) -> int:
    """The engine.io frame limit for a given ``SOCKPUB_MAX_PAYLOAD``.

    It sits a margin above the payload limit so that an oversized body inside a
    frame the transport still accepts gets our 413 answer, rather than the
    transport closing the socket.
    """
    return max_payload + max(64 * 1024, max_payload // 4)
