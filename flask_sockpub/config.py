"""Every ``SOCKPUB_*`` setting with its default, in one place.

``SockPub.init_app`` copies these into ``app.config`` with ``setdefault``, so an
app overrides any of them by setting the key before (or after constructing the
app, before) ``init_app`` runs.
"""

from __future__ import annotations

from typing import Any

#: URL of the queue that joins several server processes (``redis://...``,
#: ``amqp://...``, anything Flask-SocketIO accepts). ``None``: one process.
MESSAGE_QUEUE: str | None = None

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

#: ``MAX_CONTENT_LENGTH`` given to apps that set none, for HTTP request bodies.
DEFAULT_MAX_CONTENT_LENGTH: int = 16 * 1024 * 1024

DEFAULTS: dict[str, Any] = {
    "SOCKPUB_MESSAGE_QUEUE": MESSAGE_QUEUE,
    "SOCKPUB_CORS_ALLOWED_ORIGINS": CORS_ALLOWED_ORIGINS,
    "SOCKPUB_EVENT_STYLE": EVENT_STYLE,
    "SOCKPUB_CLIENT_URL": CLIENT_URL,
    "SOCKPUB_MAX_PAYLOAD": MAX_PAYLOAD,
    "SOCKPUB_WEBSOCKET_COMPRESSION": WEBSOCKET_COMPRESSION,
    "SOCKPUB_MAX_URL_LENGTH": MAX_URL_LENGTH,
    "SOCKPUB_PROTECTED_HEADERS": PROTECTED_HEADERS,
    "SOCKPUB_TRUSTED_PROXIES": TRUSTED_PROXIES,
}

EVENT_STYLES = ("message", "model")


def transport_limit(max_payload: int) -> int:
    """The engine.io frame limit for a given ``SOCKPUB_MAX_PAYLOAD``.

    It sits a margin above the payload limit so that an oversized body inside a
    frame the transport still accepts gets our 413 answer, rather than the
    transport closing the socket.
    """
    return max_payload + max(64 * 1024, max_payload // 4)
