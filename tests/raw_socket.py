"""A Socket.IO connection spoken by hand over a WebSocket, for what no client library would send."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import websocket


class Refused(Exception):
    """The server closed the WebSocket instead of opening a Socket.IO connection."""


class RawSocket:
    """A Socket.IO connection (Engine.IO 4, namespace ``/``) over a WebSocket, packets written by hand.

    :param origin: the handshake's ``Origin`` (websocket-client sends the
        server's own by default).
    :param headers: more handshake headers.
    :raises Refused: the server refused the connection.
    """

    def __init__(
        self, url: str, origin: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        try:
            self.ws = websocket.create_connection(
                url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
                timeout=10,
                origin=origin,
                header=[f"{name}: {value}" for name, value in (headers or {}).items()],
            )
        except websocket.WebSocketBadStatusException as exc:
            raise Refused(f"handshake answered {exc.status_code}") from None
        try:
            self.expect("0{")  # Engine.IO open
            self.ws.send("40")  # Socket.IO connect
            self.expect("40{")
        except BaseException:
            self.close()
            raise
        self.last_id = 0

    def expect(self, prefix: str) -> None:
        try:
            message = self.ws.recv()
        except websocket.WebSocketConnectionClosedException:
            message = ""
        if not message.startswith(prefix):
            raise Refused(f"expected a packet starting {prefix!r}, got {message[:80]!r}")

    def call(self, event_json: str, attachments: int = 0) -> Any:
        """Send ``event_json`` (the event packet's JSON array, as text) with an ack id; return the ack.

        :param attachments: announce this many binary attachments (a binary
            event), without sending any of them.
        """
        self.last_id += 1
        ack = f"43{self.last_id}["
        header = f"5{attachments}-" if attachments else "2"
        self.ws.send(f"4{header}{self.last_id}{event_json}")
        while True:
            message = self.ws.recv()
            if message == "2":  # Engine.IO ping
                self.ws.send("3")
            elif message.startswith(ack):
                return json.loads(message[len(ack) - 1 :])[0]

    def send(self, text: str) -> None:
        """Send one WebSocket text frame as it is."""
        self.ws.send(text)

    def close(self) -> None:
        # No close handshake: Werkzeug never answers one (see the briefing's wart).
        self.ws.shutdown()
