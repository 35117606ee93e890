"""WSGI middleware SockPub puts around the app: no compression offers, no Nagle.

:class:`DeclineCompression` hides a client's per-message deflate offer, which
browsers make on every WebSocket and which costs memory per socket and fan-out
speed. :class:`NoDelay` turns Nagle's algorithm off on every connection,
WebSockets and keep-alive HTTP alike: a socket often gets two frames in a row
(a model message, then the answer to its own request), and with Nagle on the
kernel holds the second until the client acknowledges the first, which clients
delay by up to 40 ms. No WSGI server under Flask-SocketIO turns it off, so
SockPub does (one ``setsockopt`` per request). The Performance page of the
docs has the figures behind both.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterable
from typing import Any

logger = logging.getLogger("flask_sockpub")


def connection_socket(environ: dict[str, Any]) -> socket.socket | None:
    """The TCP socket under a WSGI request, where the server exposes it."""
    # The same places simple-websocket looks for it, server by server.
    found = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
    if found is None and "eventlet.input" in environ:
        found = environ["eventlet.input"].get_socket()
    if found is None:  # gevent's pywsgi: the socket's file, wrapped in an Input over HTTP
        stream = environ.get("wsgi.input")
        raw = getattr(getattr(stream, "rfile", stream), "raw", None)
        found = getattr(raw, "_sock", None)
    return found if hasattr(found, "setsockopt") else None


class NoDelay:
    """WSGI middleware setting ``TCP_NODELAY`` on the connection of every request."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        tcp = connection_socket(environ)
        if tcp is not None:
            try:
                tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # not TCP (a Unix socket behind a proxy): nothing to do
                logger.debug("TCP_NODELAY not set: the connection is not TCP")
        return self.wsgi_app(environ, start_response)


class DeclineCompression:
    """WSGI middleware that hides a client's per-message deflate offer.

    Browsers offer compression on every WebSocket; accepting it costs memory
    on each socket and halves fan-out. Without the offer, every WebSocket
    server under Flask-SocketIO answers uncompressed.
    """

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return self.wsgi_app(environ, start_response)


class EndWerkzeugWebSocket:
    """WSGI middleware ending the HTTP connection under a finished WebSocket (Werkzeug only).

    Under Werkzeug's development server (the threading mode) a WebSocket lives
    inside its HTTP request, which engine.io ends with a ``ConnectionError``.
    Werkzeug then keeps reading the connection for a next request, takes the
    closing frame the client sends last for one, and logs a red "Bad request
    syntax ... HTTP/0.9" error for every normal close. Answering the finished
    request instead (on a connection already shut for writing, so nothing
    reaches the client) makes Werkzeug close the connection quietly: its
    answers always say ``Connection: close``.
    """

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        connection = environ.get("werkzeug.socket")
        if connection is None or environ.get("HTTP_UPGRADE", "").lower() != "websocket":
            return self.wsgi_app(environ, start_response)
        try:
            return self.wsgi_app(environ, start_response)
        except ConnectionError:
            try:
                connection.shutdown(socket.SHUT_WR)
            except OSError:  # already gone
                pass
            start_response("204 No Content", [])
            return []
