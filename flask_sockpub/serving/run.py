"""Serving an app: HTTP and sockets on one port, in any async mode.

The servers SockPub starts do not name their software: no ``Server:
Werkzeug/3.1 Python/3.12`` header (Werkzeug's, under threading) nor
``Server: BaseHTTP/0.6 Python/3.12`` (eventlet's error answers) tells a
scanner which versions to try exploits for. gevent's server sends none.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.serving import WSGIRequestHandler

if TYPE_CHECKING:
    from .connections import SocketIO

#: Listen backlog and connection cap SockPub gives eventlet (its own: 50 and 1,024).
EVENTLET_BACKLOG = 2048
EVENTLET_MAX_CONNECTIONS = 100_000


class WerkzeugHandler(WSGIRequestHandler):
    """Werkzeug's request handler, answering without a ``Server`` header."""

    def send_response(self, code: int, message: str | None = None) -> None:
        """The status line and ``Date``: :mod:`http.server`'s, less the ``Server`` header."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())


@cache
def eventlet_protocol() -> type[Any]:
    """eventlet's request handler, answering its errors without a ``Server`` header."""
    import eventlet.wsgi

    class EventletProtocol(eventlet.wsgi.HttpProtocol):  # type: ignore[misc]
        def send_response(self, code: int, message: str | None = None) -> None:
            self.log_request(code)
            self.send_response_only(code, message)
            self.send_header("Date", self.date_time_string())

    return EventletProtocol


def serve(socketio: SocketIO, app: Flask, host: str, port: int, **options: Any) -> None:
    """Serve ``app`` (HTTP and sockets on one port) until the process stops."""
    mode = socketio.async_mode
    if mode == "threading":
        # The Werkzeug server refuses to start without a terminal unless told.
        options.setdefault("allow_unsafe_werkzeug", True)
        options.setdefault("request_handler", WerkzeugHandler)
    elif mode == "eventlet":
        options.setdefault("protocol", eventlet_protocol())
        if not options.get("use_reloader") and "certfile" not in options:
            serve_eventlet(app, host, port, **options)
            return
    socketio.run(app, host=host, port=port, **options)


def serve_eventlet(
    app: Flask, host: str, port: int, log_output: bool = False, **options: Any
) -> None:
    """eventlet's WSGI server with a backlog and connection cap fit for many sockets."""
    import eventlet
    import eventlet.wsgi

    options.pop("debug", None)
    listener = eventlet.listen((host, port), backlog=options.pop("backlog", EVENTLET_BACKLOG))
    max_size = options.pop("max_size", EVENTLET_MAX_CONNECTIONS)
    eventlet.wsgi.server(listener, app, log_output=log_output, max_size=max_size, **options)
