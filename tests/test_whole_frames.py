"""Frames are written whole: a subscriber that reads slowly gets every large message intact.

simple-websocket writes a frame with one ``socket.send()``; under gevent that
call writes what fits in the kernel's buffer and returns, so with a subscriber
that reads slowly the rest of a large frame was lost, the next frame's header
landed inside the payload and the client was disconnected. Each variant here
serves tests/apps/clients.py in a subprocess; the subscriber is a WebSocket with
a small receive buffer that does not read while four messages near
``SOCKPUB_MAX_PAYLOAD`` are broadcast to it.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from typing import Any

import pytest
import websocket

from flask_sockpub import config
from flask_sockpub.client import Client
from flask_sockpub.testing import LiveServer

#: Text that makes a broadcast request body just under ``SOCKPUB_MAX_PAYLOAD``.
LARGEST_TEXT = config.MAX_PAYLOAD - 64
SIZES = [LARGEST_TEXT, 500_000, LARGEST_TEXT, 250_000]


class SlowReader:
    """A Socket.IO connection over a WebSocket with a small receive buffer, read only when asked."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(
            url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
            timeout=10,
            sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)],
        )
        self.ws.recv()  # Engine.IO open
        self.ws.send("40")
        self.ws.recv()  # Socket.IO connect

    def call(self, event_json: str) -> Any:
        """Send one event with ack id 1; return the acknowledgement's argument."""
        self.ws.send(f"421{event_json}")
        while True:
            message = self.ws.recv()
            if message == "2":
                self.ws.send("3")
            elif message.startswith("431["):
                return json.loads(message[3:])[0]

    def messages(self, count: int) -> list[dict[str, object]]:
        """Read until ``count`` ``message`` events arrived; their data."""
        received: list[dict[str, object]] = []
        while len(received) < count:
            message = self.ws.recv()
            if message == "2":
                self.ws.send("3")
            elif message.startswith('42["message",'):
                received.append(json.loads(message[2:])[1])
            else:
                raise AssertionError(f"unexpected frame {message[:80]!r}")
        return received

    def close(self) -> None:
        self.ws.shutdown()


@pytest.mark.parametrize(
    "variant_server", ["gevent+simple-websocket", "gevent", "eventlet", "threading"], indirect=True
)
def test_a_slow_subscriber_gets_large_messages_whole(variant_server: LiveServer) -> None:
    room = f"large-{uuid.uuid4().hex}"
    reader = SlowReader(variant_server.url)
    try:
        assert (
            reader.call(json.dumps(["post", {"method": "POST", "url": f"/rooms/{room}/listen"}]))[
                "statusCode"
            ]
            == 200
        )
        with Client(variant_server.url) as publisher, Client(variant_server.url) as bystander:
            for size in SIZES:
                response = publisher.post(
                    f"/rooms/{room}/broadcast", {"text": "x" * size}, timeout=30
                )
                assert response.status_code == 200
            # While the subscriber reads nothing, other sockets are served.
            assert bystander.get("/echo", {"message": "served"}).body["message"] == "served"
        time.sleep(0.5)  # the subscriber is slow: the server has to wait for it
        received = reader.messages(len(SIZES))
        assert [len(str(item["text"])) for item in received] == SIZES
        assert all(set(str(item["text"])) == {"x"} for item in received)
        # Still connected: it is answered after all that.
        assert (
            reader.call(json.dumps(["get", {"method": "GET", "url": "/echo"}]))["statusCode"] == 200
        )
    finally:
        reader.close()


def test_a_client_that_accepts_nothing_is_shut_down_after_the_write_deadline() -> None:
    from flask_sockpub.wholeframes import WholeWrites

    server_side, client_side = socket.socketpair()
    client_side.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        writer = WholeWrites(server_side, write_timeout=0.5)
        assert writer.send(b"small") == 5  # a frame that fits is written whole at once
        with pytest.raises(TimeoutError):
            writer.send(b"x" * 8 * 1024 * 1024)  # the client reads nothing
        # The connection was shut down: the client reads what had arrived, then the end.
        client_side.settimeout(5)
        while client_side.recv(65536):
            pass
    finally:
        server_side.close()
        client_side.close()
