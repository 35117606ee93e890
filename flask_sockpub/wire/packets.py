"""The Socket.IO packet codec SockPub's server uses.

python-socketio decodes every packet before any handler runs, so a packet it
cannot use (JSON nested too deep, invalid surrogates, not JSON at all, an event
that is not an array starting with its name) would raise inside python-socketio,
where nobody can answer the client. This packet class decodes with orjson
(fast, and bounded at 1,024 levels of nesting) and turns such an event into the
event ``MALFORMED_EVENT``, carrying a :class:`MalformedPayload`,
which SockPub answers with a 400 JWR under the packet's own acknowledgement id.

python-socketio does not tell a handler whether the client asked for an
acknowledgement. A socket request sent without one is delivered here as the
event ``UNACKED_EVENT``, its method name first among the arguments, so SockPub
still replays it (as Sails does) and logs that its answer goes nowhere.

A client event named like one that python-socketio or SockPub raises itself
(``connect``, ``disconnect``, anything starting with ``sockpub:``: see
:func:`reserved_event_problem`) is delivered as ``MALFORMED_EVENT`` too, so that
no client can run the app's connect or disconnect hooks, nor reach SockPub's
internal events, by naming them.

Binary attachments are kept up to ``SOCKPUB_MAX_BINARY_BYTES`` per event (none
by default: socket requests are JSON); past it none is kept while the rest
arrive, and the event is answered with a 400 JWR (:func:`packet_class`; the
hook into python-socketio's attachment handling is
:class:`flask_sockpub.internals.AttachmentGate`).

It is given to python-socketio as ``serializer=``, so it applies to SockPub's
server only, not process-wide as python-socketio's ``json=`` option would.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import orjson
from socketio import packet

from ..internals import AttachmentGate
from .socket_request import METHODS, MalformedPayload, json_kind

logger = logging.getLogger("flask_sockpub")

#: The event a packet that cannot be decoded is delivered as.
MALFORMED_EVENT = "sockpub:malformed"
#: The event a socket request without an acknowledgement id is delivered as.
UNACKED_EVENT = "sockpub:unacked"
#: The prefix of SockPub's own event names; clients may not send events named so.
INTERNAL_PREFIX = "sockpub:"
#: Event names a client may not send, in lower case (compared so): the events
#: python-socketio raises on a connection's life (its handlers would run as if
#: the socket had connected or disconnected), and the rest of socket.io-parser's
#: reserved list, which the JavaScript server refuses from clients for the same
#: reason.
RESERVED_CLIENT_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newlistener", "removelistener"}
)
#: Most binary attachments one event may announce; python-socketio holds them
#: all in memory until the last one arrives.
MAX_ATTACHMENTS = 100

EVENT_TYPES = (packet.EVENT, packet.BINARY_EVENT)
_REQUEST_EVENTS = frozenset(METHODS)


def dumps(obj: Any, **_: Any) -> str:
    """Encode ``obj`` as compact JSON text (orjson, stdlib json as fallback)."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        # Integers beyond 64 bits, nesting beyond orjson's 255 levels, lone
        # surrogates: the standard library copes with all of them.
        return json.dumps(obj, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """Decode JSON text; raises ``ValueError`` on anything that is not JSON."""
    return orjson.loads(text)


class JSONCodec:
    """The ``dumps``/``loads`` pair, shaped like the ``json`` module."""

    dumps = staticmethod(dumps)
    loads = staticmethod(loads)


def event_problem(data: Any) -> str | None:
    """What is wrong with the decoded data of an event packet, or ``None``."""
    if not isinstance(data, list):
        return f"a Socket.IO event must be an array [name, ...arguments], not {json_kind(data)}"
    if not data:
        return "a Socket.IO event must name its event: the array is empty"
    if not isinstance(data[0], str):
        return f"the event name must be a string, not {json_kind(data[0])}"
    return None


def reserved_event_problem(name: str) -> str | None:
    """Why a client may not send an event called ``name``, or ``None`` if it may."""
    lowered = name.lower()
    if lowered in RESERVED_CLIENT_EVENTS:
        return (
            f"the event name {name[:80]!r} is reserved: the server raises it itself when a "
            "socket connects or disconnects, a client may not send it"
        )
    if lowered.startswith(INTERNAL_PREFIX):
        return (
            f"the event name {name[:80]!r} is reserved: names starting with "
            f"{INTERNAL_PREFIX!r} are SockPub's own"
        )
    return None


class Packet(AttachmentGate):
    """A Socket.IO packet whose broken content is answered, not raised.

    Its binary attachments are kept up to ``max_binary_bytes`` in all (none
    by default: socket requests are JSON); past that, none is kept and the
    event is answered with a 400 JWR once its last attachment is in.
    """

    json = JSONCodec
    #: Total bytes of binary attachments one event may carry (``SOCKPUB_MAX_BINARY_BYTES``);
    #: ``0`` refuses binary events. See :func:`packet_class`.
    max_binary_bytes = 0
    #: The bytes of the attachments received so far, kept or not.
    attachment_bytes = 0
    #: Why this binary packet's attachments are refused (then none is kept), or ``None``.
    refused: str | None = None
    # Set by python-socketio; declared for the type checker.
    packet_type: int
    data: Any
    namespace: str | None
    id: int | None

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        """Whether ``data`` holds ``bytes`` anywhere in its lists and dicts.

        python-socketio's own check, which every packet it builds runs (each
        answer, each message), walks the data recursively building a list at
        every level; this walks it with a stack and stops at the first
        ``bytes``: less than half the time for a JWR (see the Performance page).
        """
        pending = [data]
        while pending:
            item = pending.pop()
            if isinstance(item, bytes):
                return True
            if isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, dict):
                pending.extend(item.values())
        return False

    def decode(self, encoded_packet: str | bytes) -> int:
        try:
            attachments = super().decode(encoded_packet) or 0
        except (ValueError, TypeError) as exc:
            # super() has set packet_type, namespace and id before reaching the
            # JSON, so the answer can go back under the right ack id.
            if self.packet_type not in (*EVENT_TYPES, packet.CONNECT):
                raise
            if isinstance(exc, orjson.JSONDecodeError):
                return self.malformed(f"the packet is not valid JSON ({exc})")
            return self.malformed(f"the packet is not a valid Socket.IO packet ({exc})")
        if self.packet_type not in EVENT_TYPES:
            if attachments and self.max_binary_bytes <= 0:
                self.refused = "binary attachments are refused"
            return attachments
        problem = event_problem(self.data) or reserved_event_problem(self.data[0])
        if problem is None and attachments > MAX_ATTACHMENTS:
            problem = f"{attachments} binary attachments; the limit is {MAX_ATTACHMENTS}"
        if problem is not None:
            return self.malformed(problem)
        if attachments == 0:
            # A binary event announcing no attachment would wait forever for one,
            # and every later packet of the socket would fail as "unexpected".
            self.packet_type = packet.EVENT
        elif self.max_binary_bytes <= 0:
            self.refused = (
                "binary attachments are refused: socket requests are JSON "
                "(SOCKPUB_MAX_BINARY_BYTES is 0)"
            )
        if (
            self.id is None
            and self.namespace in (None, "/")
            and self.data[0].lower() in _REQUEST_EVENTS
        ):
            self.data = [UNACKED_EVENT, *self.data]
        return attachments

    def keep_attachment(self, attachment: bytes) -> bool:
        """Count one binary attachment; keep it while the event's total is within ``max_binary_bytes``."""
        self.attachment_bytes += len(attachment)
        if self.refused is None and self.attachment_bytes > self.max_binary_bytes:
            self.refused = (
                f"binary attachments over {self.max_binary_bytes} bytes (SOCKPUB_MAX_BINARY_BYTES)"
            )
        return self.refused is None

    def attachments_dropped(self) -> None:
        """A refused binary event is answered with a 400; a refused binary acknowledgement is ignored."""
        if self.packet_type == packet.BINARY_EVENT:
            logger.debug("binary event refused: %s", self.refused)
            self.data = [MALFORMED_EVENT, MalformedPayload(self.refused or "binary attachments")]
        else:  # python-socketio ignores an acknowledgement it has no callback for
            self.id = None
            self.data = []

    def malformed(self, reason: str) -> int:
        """Make this packet deliver ``reason`` as ``MALFORMED_EVENT`` (or a refused connect)."""
        logger.debug("malformed packet: %s", reason)
        data = MalformedPayload(reason)
        if self.packet_type == packet.CONNECT:
            self.data = data
        else:
            self.packet_type = packet.EVENT
            self.data = [MALFORMED_EVENT, data]
        return 0


def packet_class(max_binary_bytes: int) -> type[Packet]:
    """The packet class of a server whose events may carry ``max_binary_bytes`` of attachments."""
    if max_binary_bytes == Packet.max_binary_bytes:
        return Packet
    return type("Packet", (Packet,), {"max_binary_bytes": max_binary_bytes})
