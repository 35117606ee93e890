"""Serving an app: HTTP and sockets on one port, in any async mode."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from .connections import SocketIO

#: Listen backlog and connection cap SockPub gives eventlet (its own: 50 and 1,024).
EVENTLET_BACKLOG = 2048
EVENTLET_MAX_CONNECTIONS = 100_000


def serve(socketio: SocketIO, app: Flask, host: str, port: int, **options: Any) -> None:
    """Serve ``app`` (HTTP and sockets on one port) until the process stops."""
    mode = socketio.async_mode
    if mode == "threading":
        # The Werkzeug server refuses to start without a terminal unless told.
        options.setdefault("allow_unsafe_werkzeug", True)
    elif mode == "eventlet" and not options.get("use_reloader") and "certfile" not in options:
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
