"""What the fuzzing (tests/test_fuzz.py) found, each pinned by a test of its own.

Served by the session's pipeline server (threading), spoken to with raw
Socket.IO frames.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flask_sockpub.testing import LiveServer
from tests.raw_socket import RawSocket


@pytest.fixture
def raw(pipeline_server: LiveServer) -> Iterator[RawSocket]:
    socket = RawSocket(pipeline_server.url)
    yield socket
    socket.close()


@pytest.mark.parametrize(
    "event", ["connect", "disconnect", "connect_error", "*", "sockpub:unacked", "sockpub:malformed"]
)
@pytest.mark.parametrize(
    "payload", ['{"url":"/echo"}', '"{\\"url\\": \\"/echo\\"}"'], ids=["object", "v0.9-string"]
)
def test_reserved_event_names_from_a_client_are_refused_with_a_400(
    raw: RawSocket, event: str, payload: str
) -> None:
    # Before: "connect" ran the connect handlers with the payload as the
    # handshake environ and acknowledged nothing (or failed and never
    # answered), "disconnect" ran the app's disconnect hooks for a socket
    # still connected, "*" reached the catch-all with its arguments shifted.
    answer = raw.call(f'["{event}",{payload}]')
    assert answer["statusCode"] == 400, answer
    assert "is reserved" in answer["body"]["error"]
    assert raw.call('["get",{"url":"/echo?message=still"}]')["body"]["message"] == "still"
