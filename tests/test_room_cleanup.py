"""A disconnected socket leaves every room, and nothing about it is kept.

1,000 sockets connect to a real server, join the class room, an instance room
and a user room, announce a create (which introduces every class-room member,
the other sockets cycling at the same time included), and go: a third of them
close the connection properly, a third drop it without a word, a third are
disconnected by the server. Afterwards every per-socket structure of
python-socketio, engine.io and SockPub has exactly its size from before.

Under threading, closing a connection properly costs the client 3 s (Werkzeug
never answers the close frame), so there the sockets drop the connection or
are disconnected by the server; and engine.io sweeps dead connections in its
own time, shortened here with one-second pings.
"""

from __future__ import annotations

import json
import socket as tcp
import threading
import time
import urllib.request
from itertools import islice
from typing import Any

import pytest

from flask_sockpub.client import Client
from flask_sockpub.testing import Inbox, LiveServer, live_server

CYCLES = 1000
WORKERS = 4
#: Instance rooms the cycling sockets announce creates in; the observer stays in them.
CREATED_IDS = range(10)


def sizes(server: LiveServer) -> dict[str, int]:
    with urllib.request.urlopen(f"{server.url}/internals", timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def wait_for_sizes(server: LiveServer, expected: dict[str, int], timeout: float) -> dict[str, int]:
    """The sizes once they equal ``expected``, or the last ones after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    found = sizes(server)
    while found != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        found = sizes(server)
    return found


def drop_connection(client: Client) -> tcp.socket:
    """Shut the TCP connection under the client's feet, as a crashed browser would.

    The server sees the connection end with no close frame. Returns the TCP
    socket, for the caller to close once the client has given up on it.
    """
    connection: tcp.socket = client.sio.eio.ws.sock
    connection.shutdown(tcp.SHUT_RDWR)
    return connection


def disconnect_from_the_server(server: LiveServer, client: Client) -> None:
    request = urllib.request.Request(f"{server.url}/sockets/{client.sid}/disconnect", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    deadline = time.monotonic() + 10
    while client.connected and time.monotonic() < deadline:
        time.sleep(0.005)
    assert not client.connected


def cycle(server: LiveServer, number: int, endings: tuple[str, ...]) -> None:
    client = Client(server.url)
    dropped = None
    closed_by_server = False
    try:
        assert client.post("/user/subscribe").body == {"subscribed": True}
        assert client.post("/user/subscribe/ids", {"ids": [1000 + number % 50]}).body == {
            "subscribed": True
        }
        assert client.post(f"/rooms/lobby-{number % 5}/listen").body == {"listening": True}
        assert (
            client.post("/user/create", {"values": {"id": number % len(CREATED_IDS)}}).status_code
            == 200
        )
        ending = endings[number % len(endings)]
        if ending == "drop":
            dropped = drop_connection(client)
        elif ending == "server":
            disconnect_from_the_server(server, client)
            closed_by_server = True
    finally:
        # A client the server disconnected has closed its connection already;
        # Client.close() would then wait 1 s, about one time in two, for
        # packets its stopped writer will never send.
        if not closed_by_server:
            client.close()
        if dropped is not None:
            dropped.close()


def run_cycles(server: LiveServer, endings: tuple[str, ...]) -> None:
    failures: list[BaseException] = []

    def work(numbers: Any) -> None:
        try:
            for number in numbers:
                cycle(server, number, endings)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    workers = [
        threading.Thread(target=work, args=(islice(range(CYCLES), start, None, WORKERS),))
        for start in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not failures, failures


@pytest.mark.parametrize(
    ("async_mode", "endings"),
    [("gevent", ("close", "drop", "server")), ("threading", ("drop", "server"))],
    ids=["gevent", "threading"],
)
def test_a_thousand_sockets_come_and_go_leaving_nothing_behind(
    async_mode: str, endings: tuple[str, ...]
) -> None:
    with live_server(
        "tests.apps.models:create_app", async_mode=async_mode, env={"SOCKPUB_TEST_PING": "1"}
    ) as server:
        with Client(server.url) as observer:
            inbox = Inbox(observer, "message")
            observer.post("/user/subscribe")
            for id in CREATED_IDS:  # the observer joins these rooms once and for all
                observer.post("/user/create", {"values": {"id": id}})
            before = sizes(server)
            assert before["socketio_model_rooms"] == 1 + len(CREATED_IDS)
            assert before["socketio_environs"] == before["engineio_sockets"] == 1

            run_cycles(server, endings)

            after = wait_for_sizes(server, before, timeout=30)
            assert after == before
            # The observer heard every create: the server kept serving throughout.
            assert (
                len(inbox.wait(len(CREATED_IDS) + CYCLES, timeout=10)) == len(CREATED_IDS) + CYCLES
            )
