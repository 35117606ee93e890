"""One client cannot hurt the others: limits per socket and per address, bounded memory.

Each attack runs against a real server (or the test client, for settings other
than the defaults) while a bystander socket is served; the bystander's answer
is checked with an ordering check or a generous hang guard, never a time.
"""

from __future__ import annotations

import json
import logging
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import websocket

from flask_sockpub import config
from flask_sockpub.client import Client
from flask_sockpub.state import app_state
from flask_sockpub.testing import Inbox, LiveServer, SocketTestClient, live_server
from tests.apps import pipeline
from tests.raw_socket import RawSocket

#: Pipelined requests of a flood (bench.flood sends 3,000; this is enough to pass the cap).
FLOOD = 1_000


def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` (a hang guard) passes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def read_acks(raw: RawSocket, count: int) -> dict[int, dict[str, Any]]:
    """Read until ``count`` acknowledgements arrived; the JWRs by ack id."""
    answers: dict[int, dict[str, Any]] = {}
    while len(answers) < count:
        message = raw.ws.recv()
        if message == "2":
            raw.ws.send("3")
        elif message.startswith("43"):
            ack_id, _, rest = message[2:].partition("[")
            answers[int(ack_id)] = json.loads("[" + rest)[0]
    return answers


def rss_kib(pid: int) -> int:
    """The resident memory of process ``pid``, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


# -- requests in flight ---------------------------------------------------------


def test_pipelined_requests_past_the_in_flight_cap_get_429_and_a_bystander_is_answered(
    clients_server: LiveServer,
) -> None:
    flooder = RawSocket(clients_server.url)
    try:
        # Requests written at once, each a view that waits 0.1 s.
        frames = [
            f'42{n}["get",{{"method":"GET","url":"/slow?seconds=0.1"}}]'
            for n in range(1, FLOOD + 1)
        ]
        for frame in frames:
            flooder.ws.send(frame)
        with Client(clients_server.url) as bystander:
            # Answered while the flood is being read and run (a generous hang guard).
            assert (
                bystander.get("/echo", {"message": "served"}, timeout=30).body["message"]
                == "served"
            )
            answers = read_acks(flooder, FLOOD)
        statuses = [answers[n]["statusCode"] for n in range(1, FLOOD + 1)]
        cap = config.MAX_REQUESTS_IN_FLIGHT
        assert statuses[:cap] == [200] * cap
        refused = [answers[n] for n in range(1, FLOOD + 1) if answers[n]["statusCode"] == 429]
        assert refused
        assert "SOCKPUB_MAX_REQUESTS_IN_FLIGHT" in refused[0]["body"]["error"]
        # Once answered, the socket is served again.
        assert flooder.call('["get",{"method":"GET","url":"/echo"}]')["statusCode"] == 200
    finally:
        flooder.close()


def test_a_sockets_requests_beyond_those_running_wait_their_turn(
    clients_server: LiveServer,
) -> None:
    running = config.MAX_REQUESTS_RUNNING
    raw = RawSocket(clients_server.url)
    try:
        for n in range(1, running + 1):
            raw.ws.send(f'42{n}["get",{{"method":"GET","url":"/slow?seconds=1"}}]')
        raw.ws.send(f'42{running + 1}["get",{{"method":"GET","url":"/echo"}}]')
        with Client(clients_server.url) as bystander:
            assert bystander.get("/echo", {"message": "served"}).body["message"] == "served"
            order: list[int] = []
            while len(order) < running + 1:
                message = raw.ws.recv()
                if message.startswith("43"):
                    order.append(int(message[2:].partition("[")[0]))
        # The quick request waited for a slow one of its socket to end; the bystander did not.
        assert order[0] != running + 1
    finally:
        raw.close()


def test_requests_past_the_rate_limit_get_429_and_other_sockets_are_answered() -> None:
    app = pipeline.create_app(SOCKPUB_MAX_REQUESTS_PER_SECOND=5)
    sockpub = app_state(app).sockpub
    flooder, bystander = sockpub.test_client(app), sockpub.test_client(app)
    statuses = [flooder.get("/echo").status_code for _ in range(20)]
    assert statuses[:5] == [200] * 5 and statuses[-1] == 429
    assert bystander.get("/echo", {"message": "served"}).body["message"] == "served"
    refused = flooder.get("/echo")
    assert refused.status_code == 429 and "SOCKPUB_MAX_REQUESTS_PER_SECOND" in refused.error


# -- sockets per address --------------------------------------------------------


def test_sockets_past_the_cap_per_address_are_refused_until_one_leaves() -> None:
    app = pipeline.create_app(SOCKPUB_MAX_SOCKETS_PER_ADDRESS=2)
    sockpub = app_state(app).sockpub
    first, second = sockpub.test_client(app), sockpub.test_client(app)
    third = sockpub.test_client(app)
    assert (first.connected, second.connected, third.connected) == (True, True, False)
    assert first.get("/echo", {"message": "served"}).body["message"] == "served"
    first.disconnect()
    fourth = sockpub.test_client(app)
    assert fourth.connected


def test_sockets_per_address_are_not_limited_by_default(
    test_socket: SocketTestClient, app: Any
) -> None:
    sockpub = app_state(app).sockpub
    others = [sockpub.test_client(app) for _ in range(20)]
    assert all(other.connected for other in others)


# -- the outgoing queue ----------------------------------------------------------


def test_a_socket_that_stops_reading_is_disconnected_and_a_bystander_is_answered(
    clients_server: LiveServer,
) -> None:
    room = f"queue-{uuid.uuid4().hex}"
    message = "x" * (config.MAX_PAYLOAD - 64)
    sleeper = websocket.create_connection(
        clients_server.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
        timeout=10,
        sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)],
    )
    try:
        sleeper.recv()
        sleeper.send("40")
        sid = json.loads(str(sleeper.recv())[2:])["sid"]
        sleeper.send(f'421["post",{{"method":"POST","url":"/rooms/{room}/listen"}}]')
        while not sleeper.recv().startswith("431"):
            pass
        with Client(clients_server.url) as bystander:
            inbox = Inbox(bystander)
            bystander.post("/rooms/presence/listen")
            sends = 2 * config.MAX_QUEUED_BYTES // config.MAX_PAYLOAD
            for _ in range(sends):
                assert bystander.post(
                    f"/rooms/{room}/broadcast-large", {"size": len(message)}, timeout=30
                ).ok
            # The sleeper, which never read, has left (its presence message says so) ...
            left = inbox.wait_for(lambda item: item.data.get("left") == sid, timeout=30)
            assert left.data["reason"] == "server disconnect"
            # ... while the bystander is answered.
            assert bystander.get("/echo").status_code == 200
        assert wait_until(lambda: "SOCKPUB_MAX_QUEUED_BYTES" in clients_server.log())
    finally:
        sleeper.shutdown()


# -- binary attachments ----------------------------------------------------------


def test_binary_attachments_are_refused_without_being_kept(pipeline_server: LiveServer) -> None:
    raw = RawSocket(pipeline_server.url)
    try:
        placeholders = ",".join(f'{{"_placeholder":true,"num":{n}}}' for n in range(99))
        raw.ws.send(f'4599-7["post",{{"method":"POST","url":"/echo","data":[{placeholders}]}}]')
        before = rss_kib(pipeline_server.process.pid)
        chunk = b"\0" * (1024 * 1024)
        for _ in range(32):
            raw.ws.send_binary(chunk)
        with Client(pipeline_server.url) as bystander:
            assert bystander.get("/echo", {"message": "served"}).body["message"] == "served"
        # 32 MiB sent; the server kept none of it.
        assert rss_kib(pipeline_server.process.pid) - before < 12 * 1024
        for _ in range(99 - 32):
            raw.ws.send_binary(b"\1")
        answer = read_acks(raw, 1)[7]
        assert (
            answer["statusCode"] == 400
            and "binary attachments are refused" in answer["body"]["error"]
        )
        assert raw.call('["get",{"method":"GET","url":"/echo"}]')["statusCode"] == 200
    finally:
        raw.close()


def test_binary_attachments_within_the_setting_reach_a_plain_handler() -> None:
    app = pipeline.create_app(SOCKPUB_MAX_BINARY_BYTES=100)
    sockpub = app_state(app).sockpub

    @sockpub.socketio.on("upload")
    def upload(data: bytes) -> int:
        return len(data)

    client = sockpub.test_client(app)
    assert client.emit("upload", b"x" * 100) == 100
    answer = client.emit("upload", b"x" * 101)
    assert answer["statusCode"] == 400 and "SOCKPUB_MAX_BINARY_BYTES" in answer["body"]["error"]
    assert client.get("/echo").status_code == 200


# -- the access log --------------------------------------------------------------


def test_refused_events_log_a_bounded_number_of_lines(caplog: pytest.LogCaptureFixture) -> None:
    app = pipeline.create_app(SOCKPUB_REFUSED_LOG_RATE=1)
    sockpub = app_state(app).sockpub
    attacker, bystander = sockpub.test_client(app), sockpub.test_client(app)
    marker = uuid.uuid4().hex
    with caplog.at_level(logging.INFO, logger="flask_sockpub.access"):
        for _ in range(200):
            assert attacker.emit(marker, {})["statusCode"] == 400
        assert bystander.get("/echo", {"message": "served"}).body["message"] == "served"
    lines = [record.getMessage() for record in caplog.records if marker in record.getMessage()]
    assert 1 <= len(lines) <= 12
    assert any("/echo" in record.getMessage() for record in caplog.records)


def test_the_in_flight_cap_is_the_apps_setting() -> None:
    """``SOCKPUB_MAX_REQUESTS_IN_FLIGHT = 0``: no request of a socket may be in flight."""
    app = pipeline.create_app(SOCKPUB_MAX_REQUESTS_IN_FLIGHT=0)
    refused = SocketTestClient(app).get("/echo", {"message": "hi"})
    assert refused.status_code == 429
    assert "SOCKPUB_MAX_REQUESTS_IN_FLIGHT" in (refused.error or "")


def test_the_running_cap_is_the_apps_setting() -> None:
    """``SOCKPUB_MAX_REQUESTS_RUNNING = 1``: a socket's quick request waits for its slow one."""
    env = {"SOCKPUB_TEST_SOCKPUB_MAX_REQUESTS_RUNNING": "1"}
    with live_server("tests.apps.clients:create_app", async_mode="gevent", env=env) as server:
        raw = RawSocket(server.url)
        try:
            raw.ws.send('421["get",{"method":"GET","url":"/slow?seconds=1"}]')
            raw.ws.send('422["get",{"method":"GET","url":"/echo"}]')
            order: list[int] = []
            while len(order) < 2:
                message = raw.ws.recv()
                if message.startswith("43"):
                    order.append(int(message[2:].partition("[")[0]))
            assert order == [1, 2]  # with the default (4), the quick one answers first
        finally:
            raw.close()


def test_the_queue_bound_is_the_apps_setting() -> None:
    """``SOCKPUB_MAX_QUEUED_BYTES`` set low: one larger message past it disconnects the socket."""
    env = {"SOCKPUB_TEST_SOCKPUB_MAX_QUEUED_BYTES": "2000"}
    with live_server("tests.apps.clients:create_app", env=env) as server:
        with Client(server.url) as listener, Client(server.url) as sender:
            listener.post("/rooms/bound/listen")
            sender.post("/rooms/bound/broadcast", {"text": "x" * 10_000})
            assert wait_until(lambda: not listener.connected)
            assert wait_until(lambda: "SOCKPUB_MAX_QUEUED_BYTES" in server.log())
            assert sender.get("/echo", {"message": "still"}).body["message"] == "still"
