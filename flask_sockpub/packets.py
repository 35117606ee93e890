"""The Socket.IO packet codec SockPub's server uses.

python-socketio decodes every packet before any handler runs, so a packet whose
JSON cannot be parsed (nested too deep, invalid surrogates, not JSON at all)
would raise inside python-socketio, where nobody can answer the client. This
packet class decodes with orjson (fast, and bounded at 1,024 levels of nesting)
and turns an event whose JSON is broken into the event ``MALFORMED_EVENT``, which
SockPub answers with a 400 JWR under the packet's own acknowledgement id.

It is given to python-socketio as ``serializer=``, so it applies to SockPub's
server only, not process-wide as python-socketio's ``json=`` option would.
"""
from __future__ import annotations

import json
import logging
from typing import Any

import orjson
from socketio import packet

logger = logging.getLogger("flask_sockpub")

#: The event a packet with unparseable JSON is delivered as.
MALFORMED_EVENT = "sockpub:malformed"


class MalformedPayload:
    """Stands in for the data of a packet whose JSON could not be decoded."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"MalformedPayload({self.reason!r})"


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


class Packet(packet.Packet):
    """A Socket.IO packet whose broken JSON is answered, not raised."""

    json = JSONCodec

    def decode(self, encoded_packet: str | bytes) -> int:
        try:
            return super().decode(encoded_packet) or 0
        except ValueError as exc:
            # super() has set packet_type, namespace and id before reaching the
            # JSON, so the answer can go back under the right ack id.
            if self.packet_type not in (packet.EVENT, packet.CONNECT):
                raise
            reason = f"the packet is not valid JSON ({exc})"
            logger.info("malformed packet: %s", reason)
            data: Any = MalformedPayload(reason)
            self.data = [MALFORMED_EVENT, data] if self.packet_type == packet.EVENT else data
            return 0
