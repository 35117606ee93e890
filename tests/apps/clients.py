"""The pipeline app plus connect-time auth, a slow view and presence: for client tests.

Connect rules (``@sockpub.on_connect``): no auth is welcome (anonymous); a
token in :data:`TOKENS` is welcome; the token ``"refuse-quietly"`` is refused
by returning False; any other token is refused with the reason
``"invalid token"``. A plain ``@sockpub.socketio.on("connect")`` handler
records every socket it sees and refuses the token ``"plain-handler-refuses"``.
The token ``"crash-the-hook"`` makes the hook fail. Of the two disconnect hooks,
the first always fails; the second broadcasts the leaving socket to the room
``presence``. ``POST /rooms/<room>/broadcast-large`` broadcasts a message of
``size`` characters made by the server.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, request
from flask_socketio import ConnectionRefusedError

from flask_sockpub import broadcast, current_socket, param
from tests.apps import pipeline

TOKENS = {"good-token": "randy", "other-token": "amanda", "plain-handler-refuses": "nobody"}
#: Socket id -> auth, as the plain Flask-SocketIO connect handler saw it.
SEEN_BY_PLAIN_HANDLER: dict[str, Any] = {}


def create_app(**config: Any) -> Flask:
    app = pipeline.create_app(**config)
    sockpub = app.extensions["sockpub"].sockpub

    @sockpub.on_connect
    def check_token(auth: Any) -> bool | None:
        if auth is None:
            return None
        token = auth.get("token") if isinstance(auth, dict) else None
        if token == "refuse-quietly":
            return False
        if token == "crash-the-hook":
            raise RuntimeError("the token service is down")
        if token not in TOKENS:
            raise ConnectionRefusedError("invalid token", {"hint": "ask for a new token"})
        return None

    @sockpub.socketio.on("connect")
    def remember(auth: Any) -> bool | None:
        SEEN_BY_PLAIN_HANDLER[request.sid] = auth  # type: ignore[attr-defined]
        token = auth.get("token") if isinstance(auth, dict) else None
        return False if token == "plain-handler-refuses" else None

    @sockpub.on_disconnect
    def fail_first(reason: str) -> None:
        raise RuntimeError("a disconnect hook that fails")

    @sockpub.on_disconnect
    def say_goodbye(reason: str) -> None:
        broadcast("presence", {"left": current_socket.id, "reason": str(reason)})

    @app.route("/auth")
    def auth() -> Any:
        token = current_socket.auth.get("token") if isinstance(current_socket.auth, dict) else None
        return {
            "auth": current_socket.auth,
            "user": TOKENS.get(token) if token else None,
            "seen_by_plain_handler": current_socket.id in SEEN_BY_PLAIN_HANDLER,
        }

    @app.route("/slow")
    def slow() -> Any:
        seconds = float(param("seconds", 1))
        time.sleep(seconds)
        return {"slept": seconds}

    @app.route("/server")
    def server() -> Any:
        environ = current_socket.environ or {}
        return {
            "async_mode": sockpub.socketio.async_mode,
            # gevent-websocket's handler puts its WebSocket in the handshake environ.
            "gevent_websocket": "wsgi.websocket" in environ,
        }

    @app.route("/rooms/<room>/broadcast-large", methods=["POST"])
    def shout_large(room: str) -> Any:
        # A large message made here, so that a test need not upload it.
        size = int(param("size", 1024))
        broadcast(room, {"room": room, "text": "x" * size})
        return {"sent": size}

    @app.route("/kick", methods=["POST"])
    def kick() -> Any:
        current_socket.disconnect()
        return {"kicked": True}

    @app.route("/methods/<name>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def methods(name: str) -> Any:
        status = int(request.args.get("status", 200))
        return {
            "method": request.method,
            "name": name,
            "args": request.args.to_dict(),
            "json": request.get_json(silent=True),
        }, status

    return app
