"""A room emit is encoded once for all its sockets, and each socket's messages stay whole and in order.

Real servers (tests/apps/fanout.py) in subprocesses, real python-socketio
clients. Under gevent (with simple-websocket), a room emit's
WebSocket frame is built once and written to every member
(flask_sockpub/serving/fanout.py); the other variants take python-socketio's
path and must keep the same order.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import wsproto.frame_protocol

from flask_sockpub.client import Client
from flask_sockpub.testing import LiveServer, live_server
from tests.conftest import variant_environment

REDIS_URL = "redis://127.0.0.1:6379/0"


def served(
    variant: str,
    tmp_path_factory: pytest.TempPathFactory,
    queue: str | None = None,
    one_by_one: bool = False,
) -> Any:
    """tests/apps/fanout.py served in ``variant`` (of tests/conftest.py's SERVER_VARIANTS)."""
    async_mode, env = variant_environment(variant, tmp_path_factory)
    env["FANOUT_ONE_BY_ONE"] = "1" if one_by_one else "0"
    if queue is not None:
        env["FLASK_SOCKPUB_MESSAGE_QUEUE"] = queue
        env["FLASK_SOCKPUB_QUEUE_CHANNEL"] = f"fanout-{uuid.uuid4().hex}"
    return live_server("tests.apps.fanout:create_app", async_mode=async_mode, env=env)


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
@pytest.mark.parametrize("kind", [str, bytes])
def test_a_shared_frame_is_the_frame_a_websocket_server_sends(size: int, kind: type) -> None:
    from flask_sockpub.serving.fanout import websocket_frame

    payload = "4" * size if kind is str else b"\x01" * size
    expected = wsproto.frame_protocol.FrameProtocol(client=False, extensions=[]).send_data(
        payload, fin=True
    )
    assert websocket_frame(payload) == expected


@pytest.mark.parametrize(
    ("variant", "queue"),
    [
        ("gevent+simple-websocket", None),
        ("gevent+simple-websocket", REDIS_URL),
    ],
    ids=["gevent", "gevent-redis"],
)
def test_a_room_emit_is_encoded_once_whatever_the_number_of_sockets(
    variant: str, queue: str | None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    sockets, messages = 20, 10
    with served(variant, tmp_path_factory, queue) as server:
        clients = [Client(server.url) for _ in range(sockets)]
        try:
            heard: list[list[int]] = [[] for _ in clients]
            for client, inbox in zip(clients, heard):
                client.on("message", lambda data, inbox=inbox: inbox.append(data["n"]))
                assert client.post("/news/join").body == {"joined": True}
            requests.post(f"{server.url}/counts/reset", timeout=10).raise_for_status()
            answer = requests.post(
                f"{server.url}/news/publish", json={"count": messages}, timeout=10
            )
            assert answer.json() == {"publishing": messages}
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and any(len(inbox) < messages for inbox in heard):
                time.sleep(0.05)
            assert heard == [list(range(messages))] * sockets
            counts = requests.get(f"{server.url}/counts", timeout=10).json()
        finally:
            for client in clients:
                client.close()
    assert counts.get("socketio_packets") == messages, counts
    frames = counts.get("shared_frames", 0) + counts.get("wsproto_frames", 0)
    assert frames == messages, counts


@pytest.fixture(
    scope="module", params=["gevent+simple-websocket", "gevent", "threading", "eventlet"]
)
def mixed_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    # Every other message goes to each socket alone, through its queue: a
    # shared frame must never overtake what waits there.
    with served(request.param, tmp_path_factory, one_by_one=True) as server:
        yield server


def test_answers_and_room_messages_reach_each_socket_whole_and_in_order(
    mixed_server: LiveServer,
) -> None:
    order = {"sockets": 40, "polling": 10, "messages": 1500, "asks": 40}
    # The sockets live in a process of their own (see tests/drivers/mixed.py).
    driver = subprocess.run(
        [sys.executable, "-m", "tests.drivers.mixed", mixed_server.url],
        input=json.dumps(order).encode(),
        capture_output=True,
        timeout=180,
    )
    assert driver.returncode == 0, driver.stderr.decode(errors="replace")[-3000:]
    result = json.loads(driver.stdout)
    assert len(result["received"]) == order["sockets"]
    for number, (received, answers) in enumerate(zip(result["received"], result["answers"])):
        assert received == list(range(order["messages"])), f"socket {number}"
        assert [asked for asked, _, _, _ in answers] == list(range(order["asks"]))
        for asked, answered, published, heard in answers:
            assert answered == asked, f"socket {number}"
            # Every message broadcast before the answer was sent came before it.
            assert heard >= published, f"socket {number}: answer {asked}"
    # The answers came while the room was fanning out, not all after it.
    assert any(
        0 < published < order["messages"]
        for answers in result["answers"]
        for _, _, published, _ in answers
    )
