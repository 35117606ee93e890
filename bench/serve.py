"""One benchmark server: ``python -m bench.serve module:factory --async-mode M --port P``.

Run by the harness (pinned to a core with ``taskset``), for ours and the floor
alike, so both are served the same way: gevent or eventlet monkey-patch this
process first; the file descriptor limit goes up to its hard limit; logging
is at WARNING (no access log); gevent-websocket is hidden unless
``--websocket gevent-websocket`` (so gevent serves WebSockets with
simple-websocket, as the deployment docs recommend); then the app is served
with :func:`flask_sockpub.serving.run.serve` (eventlet's backlog and connection
cap included). Before serving it prints one line, ``BENCH-SETTINGS {json}``:
the settings that must match between ours and the floor.
"""

from __future__ import annotations

import sys


def requested_mode(argv: list[str]) -> str | None:
    """The value of ``--async-mode`` in ``argv``, read without argparse."""
    for flag, value in zip(argv, argv[1:]):
        if flag == "--async-mode":
            return value
    return None


# Patch before anything else is imported (argparse and friends included).
if requested_mode(sys.argv) == "eventlet":
    import eventlet

    eventlet.monkey_patch()
elif requested_mode(sys.argv) == "gevent":
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import resource  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask  # noqa: E402

SETTINGS_PREFIX = "BENCH-SETTINGS "
WEBSOCKET_CHOICES = ("simple-websocket", "gevent-websocket")


def raise_file_limit() -> int:
    """Raise this process's open-file limit to its hard limit; returns the new limit."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def websocket_server(async_mode: str) -> str:
    """Which WebSocket implementation Engine.IO uses in this process."""
    if async_mode == "eventlet":
        return "eventlet.websocket"
    if async_mode == "gevent":
        try:
            import geventwebsocket  # noqa: F401
        except ImportError:
            return "simple-websocket"
        return "gevent-websocket"
    return "simple-websocket"


def middleware(app: Flask) -> list[str]:
    """The class names of the WSGI middleware around the Flask app, outermost first."""
    names = []
    layer: Any = app.wsgi_app
    while layer is not None and not isinstance(layer, Flask):
        names.append(type(layer).__name__)
        layer = getattr(layer, "wsgi_app", None)
    return names


def settings(app: Flask, file_limit: int) -> dict[str, Any]:
    """What must be equal between ours and the floor, as this server has it."""
    from flask_sockpub.serving import run as sockpub_run

    socketio = app.extensions["socketio"]
    server = socketio.server
    mode = socketio.async_mode
    found = {
        "async_mode": mode,
        "async_handlers": server.async_handlers,
        "packet_class": f"{server.packet_class.__module__}.{server.packet_class.__qualname__}",
        "websocket": websocket_server(mode),
        "middleware": middleware(app),
        "file_limit": file_limit,
    }
    if mode == "eventlet":
        found["eventlet_backlog"] = sockpub_run.EVENTLET_BACKLOG
        found["eventlet_max_connections"] = sockpub_run.EVENTLET_MAX_CONNECTIONS
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", help="module:factory of the Flask app")
    parser.add_argument("--async-mode", choices=("threading", "gevent", "eventlet"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--websocket", choices=WEBSOCKET_CHOICES, default="simple-websocket")
    args = parser.parse_args()
    if args.async_mode == "gevent" and args.websocket == "simple-websocket":
        sys.modules["geventwebsocket"] = None  # type: ignore[assignment]
    file_limit = raise_file_limit()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from flask_sockpub.cli import load_app
    from flask_sockpub.serving.run import serve

    app = load_app(args.app)
    found = settings(app, file_limit)
    if found["async_mode"] != args.async_mode:
        raise SystemExit(f"bench.serve: the app runs {found['async_mode']}, not {args.async_mode}")
    print(SETTINGS_PREFIX + json.dumps(found), flush=True)
    serve(app.extensions["socketio"], app, "127.0.0.1", args.port)


if __name__ == "__main__":
    main()
