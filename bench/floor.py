"""The floor: bare Flask-SocketIO answering the same wire as ours, without Flask routing.

What any Flask-SocketIO product stands on. Socket events, in the sails.io.js
wire format (``emit("get", {"method", "url", "headers", "data"}, ack)``):

* ``get``: answers ``/echo``'s JWR, the message read from the URL's query
  string, in a Flask-SocketIO handler (one request context, no URL matching);
* ``subscribe``: joins the room ``item`` (ours joins its class room through
  ``get /item``);
* ``post``: emits a create message to the room, shaped like ours
  (:func:`flask_sockpub.rooms.messages.created`), and answers a 201 JWR; no database.

A plain Flask route ``/echo`` serves the HTTP comparison.

Settings equal to ours, so that only the pipeline differs: the Socket.IO
packet codec (``serializer=flask_sockpub.wire.packets.Packet``, orjson), WebSocket
compression declined (:class:`flask_sockpub.serving.middleware.DeclineCompression`),
``TCP_NODELAY`` on every WebSocket (:class:`flask_sockpub.serving.middleware.NoDelay`),
the same server per async mode with the same eventlet backlog and connection
cap (:func:`flask_sockpub.serving.run.serve`), and ``async_handlers`` as ours has
it (``BENCH_ASYNC_HANDLERS``, set by the harness from ours' settings).
``bench.serve`` prints both servers' effective settings and the harness
warns when they differ.
"""

from __future__ import annotations

import itertools
import os
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask, request
from flask_socketio import SocketIO, join_room

from flask_sockpub.rooms.messages import created
from flask_sockpub.serving.async_mode import pick_async_mode
from flask_sockpub.serving.middleware import DeclineCompression, NoDelay
from flask_sockpub.wire.packets import Packet

ROOM = "item"
JSON_HEADERS = {"Content-Type": "application/json"}


def jwr(body: Any, status: int = 200) -> dict[str, Any]:
    """A JSON WebSocket Response, as sails.io.js expects one."""
    return {"body": body, "statusCode": status, "headers": JSON_HEADERS}


def echo_body(url: str) -> dict[str, Any]:
    """The body ``/echo`` answers, its message read from ``url``'s query string."""
    messages = parse_qs(urlsplit(url).query).get("message")
    return {"success": True, "message": messages[0] if messages else None}


def create_app() -> Flask:
    """The floor app: its handlers on a bare ``flask_socketio.SocketIO``."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "bench"
    async_handlers = os.environ.get("BENCH_ASYNC_HANDLERS", "1") == "1"
    socketio = SocketIO(
        app, async_mode=pick_async_mode(), serializer=Packet, async_handlers=async_handlers
    )
    app.wsgi_app = NoDelay(DeclineCompression(app.wsgi_app))  # type: ignore[method-assign]
    ids = itertools.count(1)

    @socketio.on("get")  # type: ignore[untyped-decorator]
    def get(payload: dict[str, Any]) -> dict[str, Any]:
        return jwr(echo_body(payload.get("url", "")))

    @socketio.on("subscribe")  # type: ignore[untyped-decorator]
    def subscribe(payload: Any = None) -> dict[str, Any]:
        join_room(ROOM)
        return jwr([])

    @socketio.on("post")  # type: ignore[untyped-decorator]
    def post(payload: dict[str, Any]) -> dict[str, Any]:
        record = {**(payload.get("data") or {}), "id": next(ids)}
        event, message = created("message", ROOM, record["id"], record)
        socketio.emit(event, message, to=ROOM, skip_sid=request.sid)  # type: ignore[attr-defined]
        return jwr(record, 201)

    @app.route("/echo")
    def echo() -> dict[str, Any]:
        return {"success": True, "message": request.args.get("message")}

    return app
