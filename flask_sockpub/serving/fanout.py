"""A room emit's WebSocket frame, built once and written to every member socket.

python-socketio encodes a room emit once, then hands the same Engine.IO
packet to each member socket, where it costs a queue, a switch to the
socket's writer, WebSocket framing and the write, one socket at a time. Here
the packet's frame is built once (the first member asks for it) and each
member gets the same bytes:

* when the socket's writer waits on an empty queue and no other write holds
  its connection, the frame is written at once, without waiting for the
  client (what the kernel does not take is written first by the socket's
  next write, and the writer is woken for it);
* otherwise the frame joins the socket's queue behind what is there, and the
  writer writes it as it is.

Either way a socket's frames leave in the order they were handed to it (its
own answers go through the same queue), and each is written whole under the
connection's lock (:class:`flask_sockpub.wholeframes.WholeWrites`).

Sockets on long-polling, with per-message compression (when
``SOCKPUB_WEBSOCKET_COMPRESSION`` lets a client have it), on TLS served by the
app server, under threading (see :func:`flask_sockpub.internals.writer_queue_class`), under eventlet or gevent-websocket (whose WebSocket servers are
their own), or with dependency versions :mod:`flask_sockpub.internals` was not
tested against, take the usual path.
"""

from __future__ import annotations

import struct
from typing import Any

from .. import internals
from ..wholeframes import WholeWrites

#: The WebSocket opcodes of a final text and binary frame (RFC 6455, 5.2).
TEXT_FRAME = 0x81
BINARY_FRAME = 0x82


def websocket_frame(payload: str | bytes) -> bytes:
    """One unmasked, final WebSocket frame holding ``payload``: what a server sends (RFC 6455, 5.2)."""
    if isinstance(payload, str):
        first, data = TEXT_FRAME, payload.encode()
    else:
        first, data = BINARY_FRAME, bytes(payload)
    size = len(data)
    if size < 126:
        header = struct.pack("!BB", first, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", first, 126, size)
    else:
        header = struct.pack("!BBQ", first, 127, size)
    return header + data


class SharedFrame(bytes):
    """A whole WebSocket frame, which a socket's writer sends as it is."""


class QueuedFrame:
    """A frame waiting in an Engine.IO socket's queue, shaped as Engine.IO's packets are.

    ``packet_type`` (a message) and ``data`` (the frame) are what Engine.IO's
    ``send_packet`` and the outgoing-queue bound (:mod:`flask_sockpub.admission`)
    read of a packet.
    """

    packet_type = 4  # Engine.IO's MESSAGE

    def __init__(self, frame: SharedFrame) -> None:
        self.frame = frame
        self.data = frame

    def encode(self, b64: bool = False) -> SharedFrame:
        """The frame, which :class:`FrameWriter` writes as it is."""
        return self.frame


#: Wakes a socket's writer to write what an immediate write left over.
FLUSH = QueuedFrame(SharedFrame())


def shared_frame(eio_packet: Any) -> QueuedFrame:
    """The frame of Engine.IO packet ``eio_packet``, built at the first call and kept on the packet."""
    frame: QueuedFrame | None = getattr(eio_packet, "sockpub_frame", None)
    if frame is None:
        frame = QueuedFrame(SharedFrame(websocket_frame(eio_packet.encode())))
        eio_packet.sockpub_frame = frame
    return frame


class FrameWriter:
    """What an Engine.IO WebSocket handler writes on: frames as they are, the rest through simple-websocket."""

    def __init__(self, ws: Any, connection: WholeWrites) -> None:
        self._ws = ws
        self._connection = connection

    def send(self, message: Any) -> None:
        """Write ``message``: a :class:`SharedFrame` as it is, anything else framed by simple-websocket."""
        if isinstance(message, SharedFrame):
            if not internals.websocket_connected(self._ws):
                raise OSError("the WebSocket is closed")
            self._connection.send(message)
        else:
            self._ws.send(message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)


class Lane:
    """One WebSocket's way out: its Engine.IO socket (and queue) and its connection."""

    def __init__(self, engine_socket: Any, connection: WholeWrites, eio: Any) -> None:
        self.engine_socket = engine_socket
        self.eio_sid = internals.engine_socket_id(engine_socket)
        self.queue = internals.outgoing_queue(engine_socket)
        self.connection = connection
        self.eio = eio

    def deliver(self, frame: QueuedFrame, max_direct_bytes: int) -> None:
        """Write ``frame`` now if the socket's writer is idle, else queue it behind what waits.

        A frame over ``max_direct_bytes`` is always queued, where the
        outgoing-queue bound counts it (``SOCKPUB_MAX_QUEUED_BYTES``).
        """
        written = None
        if len(frame.frame) <= max_direct_bytes:
            if not internals.client_answering(self.engine_socket):
                return  # as Engine.IO's own send: the socket of a silent client is closed instead
            written = self.queue.write_if_idle(lambda: self.connection.write_nowait(frame.frame))
        if written is None:
            # Engine.IO's public send, which the outgoing-queue bound watches.
            self.eio.send_packet(self.eio_sid, frame)
        elif written:
            self.queue.put(FLUSH)


class SharedFrames:
    """A python-socketio server's room emits, delivered as one frame built once per emit."""

    def __init__(self, eio: Any, max_direct_bytes: int) -> None:
        self.lanes: dict[str, Lane] = {}
        self.eio = eio
        self.max_direct_bytes = max_direct_bytes

    def opened(self, engine_socket: Any, ws: Any, environ: dict[str, Any]) -> FrameWriter | None:
        """Open a lane for a WebSocket that can take shared frames; ``None`` for one that cannot."""
        if "deflate" in environ.get("HTTP_SEC_WEBSOCKET_EXTENSIONS", ""):
            return None  # compression may be on: each socket compresses on its own
        connection = internals.websocket_connection(ws)
        if not isinstance(connection, WholeWrites) or not connection.writes_nowait():
            return None
        if not hasattr(internals.outgoing_queue(engine_socket), "write_if_idle"):
            return None
        lane = Lane(engine_socket, connection, self.eio)
        self.lanes[lane.eio_sid] = lane
        return FrameWriter(ws, connection)

    def closed(self, engine_socket: Any) -> None:
        """Forget the lane of a WebSocket whose handler ended."""
        lane = self.lanes.pop(internals.engine_socket_id(engine_socket), None)
        if lane is not None:
            # A write begun before the lane went away (threading) ends before
            # the connection's server may close the socket.
            lane.connection.wait_for_writes()

    def send(self, eio_sid: str, eio_packet: Any, original: Any) -> None:
        """Deliver one packet of a room emit to socket ``eio_sid``: its shared frame, or the usual way."""
        lane = self.lanes.get(eio_sid)
        if lane is None or not internals.takes_frames(lane.engine_socket):
            original(eio_sid, eio_packet)
            return
        lane.deliver(shared_frame(eio_packet), self.max_direct_bytes)


def share_frames(server: Any, async_mode: str, max_direct_bytes: int) -> SharedFrames | None:
    """Have room emits of python-socketio ``server`` share one frame per emit; ``None`` where they cannot.

    :param max_direct_bytes: frames over this size always go through the
        socket's queue (``SOCKPUB_MAX_QUEUED_BYTES``, so that the queue bound
        sees them).
    """
    if not internals.SHARED_FRAMES:
        return None
    queue_class = internals.writer_queue_class(async_mode)
    if queue_class is None:
        return None
    frames = SharedFrames(server.eio, max_direct_bytes)
    internals.watch_websockets(server.eio, queue_class, frames.opened, frames.closed)
    internals.intercept_room_packets(server, frames.send)
    return frames
