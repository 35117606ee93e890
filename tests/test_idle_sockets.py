"""What an idle socket holds under gevent, and that holding less changes nothing a client sees.

Engine.IO pings every socket after each pong; under gevent SockPub waits for
the next ping on an event-loop timer instead of a greenlet parked in a sleep
(:func:`flask_sockpub.internals.ping_on_timers`). The live test checks what a
client relies on: an idle socket that answers its pings is pinged again and
again and stays connected. Figures: ``bench/idle_memory.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import websocket

from flask_sockpub.testing import LiveServer, live_server
from tests.hidden_modules import without_gevent_websocket

#: Seconds between pings (and the pong timeout) in the live servers here.
PING = 1


@pytest.fixture(scope="module", params=["gevent+simple-websocket", "gevent", "threading"])
def ping_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """tests/apps/models.py with 1 s pings, in the variant named by the parameter."""
    async_mode = request.param.partition("+")[0]
    env = {"SOCKPUB_TEST_PING": str(PING)}
    if request.param.endswith("simple-websocket"):
        hidden = without_gevent_websocket(tmp_path_factory.mktemp("without-gevent-websocket"))
        env["PYTHONPATH"] = os.pathsep.join([hidden, os.getcwd()])
    with live_server("tests.apps.models:create_app", async_mode=async_mode, env=env) as server:
        yield server


def open_socket(url: str) -> websocket.WebSocket:
    """A Socket.IO connection spoken by hand, so pongs can be withheld."""
    ws = websocket.create_connection(
        url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket", timeout=10
    )
    assert ws.recv().startswith("0{")
    ws.send("40")
    assert ws.recv().startswith("40{")
    return ws


def test_an_idle_socket_answering_its_pings_is_pinged_again_and_stays(
    ping_server: LiveServer,
) -> None:
    ws = open_socket(ping_server.url)
    try:
        pings = 0
        while pings < 4:  # 4 pings 1 s apart: each pong schedules the next
            message = ws.recv()
            assert message == "2", message
            pings += 1
            ws.send("3")
        ws.send('421["post",{"method":"POST","url":"/user/subscribe","headers":{}}]')
        while (message := ws.recv()) == "2":
            ws.send("3")
        assert message.startswith("431[") and '"statusCode":200' in message
    finally:
        ws.close()
