"""SockPub's packet class keeps python-socketio's behaviour where it only goes faster."""

from __future__ import annotations

from typing import Any

import pytest
from socketio import packet

from flask_sockpub.wire.packets import Packet

CASES: list[Any] = [
    None, 0, "text", b"", b"bytes", [], {}, [1, "two", None], {"a": {"b": [1, 2]}},
    [{"body": {"file": b"\x00\x01"}, "statusCode": 200}], {"deep": [[[[b"x"]]]]},
    [[[[[]]]]], {"not": ("a", b"tuple")},
]  # fmt: skip


@pytest.mark.parametrize("data", CASES)
def test_binary_detection_matches_python_socketio(data: Any) -> None:
    assert Packet.data_is_binary(data) is packet.Packet.data_is_binary(data)


def test_an_answer_holding_bytes_is_sent_as_a_binary_ack() -> None:
    answer = Packet(packet.ACK, data=[{"body": b"\x89PNG"}], id=3)
    assert answer.packet_type == packet.BINARY_ACK
    encoded = answer.encode()
    assert encoded[0].startswith("61-3") and encoded[1] == b"\x89PNG"
