"""An app fanning numbered messages out to a room, counting what it encodes: for tests/test_fanout.py.

Served by ``live_server("tests.apps.fanout:create_app")``; the environment may
give a message queue (``FLASK_SOCKPUB_MESSAGE_QUEUE``, ``FLASK_SOCKPUB_QUEUE_CHANNEL``,
read by ``from_prefixed_env``). A socket joins the room ``news`` with
``POST /news/join``; ``POST /news/publish`` with ``{"count": n}`` starts
broadcasting ``{"n": 0}`` ... ``{"n": n - 1}`` to it in the background and
answers at once (with ``FANOUT_ONE_BY_ONE=1`` in the environment, every odd
message goes to each socket alone, asking for an acknowledgement: through
the socket's queue, as an answer goes); ``GET /ask?n=`` answers ``{"n": n, "published": m}``, ``m``
the messages broadcast so far (each handed to every socket of the room before
the answer). ``GET /counts`` says
how many Socket.IO packets and WebSocket frames the server encoded since
``POST /counts/reset``: frames built by wsproto (simple-websocket's framing,
one per socket and message) and by :func:`flask_sockpub.serving.fanout.websocket_frame`
(one per room emit).
"""

from __future__ import annotations

import importlib
import os
from collections import Counter
from typing import Any

import socketio.packet
import wsproto.frame_protocol
from flask import Flask, request

from flask_sockpub import SockPub, broadcast, current_socket, listen, param
from flask_sockpub.rooms.names import NAMESPACE

COUNTS: Counter[str] = Counter()
#: How many broadcasts of the current run have returned.
PUBLISHED = [0]
#: The sockets that joined ``news``.
JOINED: list[str] = []
#: Whether every other message goes to each socket alone, with an
#: acknowledgement asked (so through its queue, not a shared frame).
ONE_BY_ONE = os.environ.get("FANOUT_ONE_BY_ONE") == "1"


def count_calls(owner: Any, name: str, key: str, payload_at: int | None = None) -> None:
    """Count each call of ``owner.name`` under ``key``.

    With ``payload_at``, only calls whose argument at that position is an
    Engine.IO message (``"4..."``), not a ping or a close.
    """
    original = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        if payload_at is None or str(args[payload_at])[:1] == "4":
            COUNTS[key] += 1
        return original(*args, **kwargs)

    setattr(owner, name, counted)


def count_encodes() -> None:
    count_calls(socketio.packet.Packet, "encode", "socketio_packets")
    count_calls(wsproto.frame_protocol.FrameProtocol, "send_data", "wsproto_frames", 1)
    try:  # absent before room emits shared their frame: then only wsproto frames
        fanout = importlib.import_module("flask_sockpub.serving.fanout")
    except ImportError:
        return
    count_calls(fanout, "websocket_frame", "shared_frames", 0)
    # How frames went out (not asserted: for a reader of /counts).
    write_nowait = fanout.WholeWrites.write_nowait

    def counted_write(self: Any, data: bytes) -> bool | None:
        outcome = write_nowait(self, data)
        COUNTS[{None: "busy_writes", True: "partial_writes", False: "direct_writes"}[outcome]] += 1
        return outcome

    fanout.WholeWrites.write_nowait = counted_write  # type: ignore[method-assign]


count_encodes()


def create_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="fanout-secret", **config)
    app.config.from_prefixed_env("FLASK")
    sockpub = SockPub(app)

    server = sockpub.socketio.server

    def heard(*args: Any) -> None:
        """The client's acknowledgement of a message sent to it alone."""

    @app.post("/news/join")
    def join() -> Any:
        JOINED.append(current_socket.id)
        return {"joined": listen("news")}

    @app.get("/ask")
    def ask() -> Any:
        return {"n": int(param("n")), "published": PUBLISHED[0]}

    @app.post("/news/publish")
    def publish() -> Any:
        count = int((request.get_json(silent=True) or {})["count"])

        PUBLISHED[0] = 0

        def run() -> None:
            with app.app_context():
                for n in range(count):
                    if n % 2 and ONE_BY_ONE:
                        for sid in list(JOINED):
                            server.emit(
                                "message", {"n": n}, to=sid, namespace=NAMESPACE, callback=heard
                            )
                    else:
                        broadcast("news", {"n": n})
                    PUBLISHED[0] = n + 1
                    if n % 10 == 9:
                        sockpub.socketio.sleep(0)  # let the sockets' own requests in

        sockpub.socketio.start_background_task(run)
        return {"publishing": count}

    @app.post("/counts/reset")
    def reset() -> Any:
        COUNTS.clear()
        return {"reset": True}

    @app.get("/counts")
    def counts() -> Any:
        return dict(COUNTS)

    return app
