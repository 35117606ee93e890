"""current_socket, listen and broadcast in views; the access log."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from flask_sockpub.client import Client
from flask_sockpub.testing import Inbox, LiveServer, Received


@pytest.fixture(scope="module")
def listeners(pipeline_server: LiveServer) -> Iterator[tuple[Client, Client]]:
    """Two sockets shared by this module's tests; each test uses rooms of its own."""
    with Client(pipeline_server.url) as first, Client(pipeline_server.url) as second:
        yield first, second


def test_current_socket_is_falsy_over_http(app: Flask) -> None:
    assert app.test_client().get("/whoami").get_json() == {"socket": None}


def test_listen_is_a_no_op_returning_false_over_http(app: Flask) -> None:
    assert app.test_client().post("/rooms/lobby/listen").get_json() == {"listening": False}


def test_listen_and_broadcast_deliver_to_the_room_including_the_sender(
    listeners: tuple[Client, Client],
) -> None:
    first, second = listeners
    inboxes = Inbox(first), Inbox(second)
    assert first.post("/rooms/lobby/listen").body == {"listening": True}
    assert second.post("/rooms/lobby/listen").body == {"listening": True}
    first.post("/rooms/lobby/broadcast", {"text": "hello"})
    for inbox in inboxes:
        assert [item.data for item in inbox.wait(1)] == [{"room": "lobby", "text": "hello"}]


def texts(items: list[Received]) -> list[str]:
    return [item.data["text"] for item in items]


def saying(text: str) -> Callable[[Received], bool]:
    return lambda item: item.data["text"] == text


def test_broadcast_include_self_false_leaves_the_sender_out(
    listeners: tuple[Client, Client],
) -> None:
    first, second = listeners
    first_inbox, second_inbox = Inbox(first), Inbox(second)
    first.post("/rooms/quiet/listen")
    second.post("/rooms/quiet/listen")
    first.post("/rooms/quiet/broadcast", {"text": "not to me", "include_self": False})
    first.post("/rooms/quiet/broadcast", {"text": "to all"})
    # What a socket is sent arrives in order: "not to me" would come first.
    assert texts(first_inbox.until(saying("to all"))) == ["to all"]
    assert texts(second_inbox.until(saying("to all"))) == ["not to me", "to all"]


def test_broadcast_reaches_only_sockets_in_that_room(listeners: tuple[Client, Client]) -> None:
    first, second = listeners
    first_inbox, second_inbox = Inbox(first), Inbox(second)
    first.post("/rooms/red/listen")
    second.post("/rooms/blue/listen")
    first.post("/rooms/red/broadcast", {"text": "red only"})
    first.post("/rooms/blue/broadcast", {"text": "blue only"})
    assert texts(first_inbox.until(saying("red only"))) == ["red only"]
    assert texts(second_inbox.until(saying("blue only"))) == ["blue only"]


def test_broadcast_from_an_http_request_reaches_listening_sockets(
    listeners: tuple[Client, Client], pipeline_server: LiveServer
) -> None:
    import urllib.request

    first, _ = listeners
    inbox = Inbox(first)
    first.post("/rooms/news/listen")
    request = urllib.request.Request(
        f"{pipeline_server.url}/rooms/news/broadcast?text=from%20http", method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    assert [item.data for item in inbox.wait(1)] == [{"room": "news", "text": "from http"}]


def test_every_socket_request_writes_one_access_log_line(
    real_socket: Client, pipeline_server: LiveServer
) -> None:
    real_socket.get("/echo", {"message": "logged"})
    real_socket.get("/no/such/page")
    log = pipeline_server.log()
    assert f"{real_socket.sid} GET /echo 200 " in log
    assert f"{real_socket.sid} GET /no/such/page 404 " in log
