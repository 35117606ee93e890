"""Model room methods outside socket requests: CLI commands, app contexts, sockets named by id.

These run in-process, with sockets of the test client (real ones are in
test_model_rooms.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from flask_sockpub import Socket
from flask_sockpub.testing import Received, SocketTestClient
from tests.apps.models import User, create_app


@pytest.fixture(params=["message", "model"])
def app(request: pytest.FixtureRequest) -> Flask:
    return create_app(SOCKPUB_EVENT_STYLE=request.param)


@pytest.fixture
def sockets(app: Flask) -> Iterator[tuple[SocketTestClient, SocketTestClient]]:
    sockpub = app.extensions["sockpub"].sockpub
    first, second = sockpub.test_client(app), sockpub.test_client(app)
    yield first, second
    for socket in (first, second):
        if socket.connected:
            socket.disconnect()


def update(app: Flask, id: int, data: dict[str, str]) -> Received:
    if app.config["SOCKPUB_EVENT_STYLE"] == "message":
        return Received("message", {"model": "user", "verb": "update", "id": id, "data": data})
    return Received("user", {"verb": "updated", "id": id, "data": data})


def test_a_cli_command_publishes_to_subscribed_sockets(
    app: Flask, sockets: tuple[SocketTestClient, SocketTestClient]
) -> None:
    first, second = sockets
    first.post("/user/subscribe/ids", {"ids": [7]})
    result = app.test_cli_runner().invoke(args=["announce", "7", "from the CLI"])
    assert result.exit_code == 0, result.output
    assert first.received() == [update(app, 7, {"name": "from the CLI"})]
    assert second.received() == []


def test_sockets_named_by_id_or_as_socket_objects_are_subscribed_from_an_app_context(
    app: Flask, sockets: tuple[SocketTestClient, SocketTestClient]
) -> None:
    first, second = sockets
    with app.app_context():
        server = app.extensions["sockpub"].server
        assert first.sid is not None and second.sid is not None
        assert User.subscribe(first.sid, [7]) is True
        assert User.subscribe(Socket(server, second.sid), 7) is True
        assert User.subscribers(7) == [Socket(server, first.sid), Socket(server, second.sid)]
        User.publish_update(7, {"name": "both"})
        assert User.unsubscribe(second.sid, 7) is True
        User.publish_update(7, {"name": "first only"})
    assert first.received() == [
        update(app, 7, {"name": "both"}),
        update(app, 7, {"name": "first only"}),
    ]
    assert second.received() == [update(app, 7, {"name": "both"})]


def test_subscribing_without_a_socket_joins_the_current_one(
    app: Flask, sockets: tuple[SocketTestClient, SocketTestClient]
) -> None:
    first, _ = sockets
    assert first.post("/user/subscribe/implicit").body == {"subscribed": True}
    assert "sockpub:model:user" in first.get("/my/rooms").body["rooms"]


def test_subscribing_outside_any_request_or_a_gone_socket_returns_false(
    app: Flask, sockets: tuple[SocketTestClient, SocketTestClient]
) -> None:
    first, _ = sockets
    sid = first.sid
    first.disconnect()
    with app.app_context():
        assert User.subscribe() is False
        assert User.subscribe(None, [7]) is False
        assert User.subscribe(sid) is False
        assert User.subscribers() == []


def test_subscribing_during_an_http_request_is_a_no_op_returning_false(app: Flask) -> None:
    client = app.test_client()
    assert client.post("/user/subscribe").get_json() == {"subscribed": False}
    assert client.post("/user/subscribe/implicit").get_json() == {"subscribed": False}
    assert client.post("/user/subscribe/ids", json={"ids": [7]}).get_json() == {"subscribed": False}


def test_publishing_outside_an_app_context_says_so() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        User.publish_update(7, {"name": "nowhere"})


def test_user_rooms_named_like_model_rooms_are_other_rooms(
    app: Flask, sockets: tuple[SocketTestClient, SocketTestClient]
) -> None:
    listener, member = sockets
    assert listener.post("/rooms/sockpub:model:user/listen").body == {"listening": True}
    member.post("/user/subscribe")
    member.post("/user/create", {"values": {"id": 40}})
    assert listener.received() == []
    listener.post("/rooms/sockpub:model:user/broadcast")
    assert listener.received() == [Received("message", {"room": "sockpub:model:user"})]
    assert [item.event for item in member.received()] == [
        "message" if app.config["SOCKPUB_EVENT_STYLE"] == "message" else "user"
    ]


def test_a_connect_handler_can_subscribe_the_connecting_socket(app: Flask) -> None:
    sockpub = app.extensions["sockpub"].sockpub

    @sockpub.on_connect
    def subscribe_on_connect(auth: object) -> None:
        assert User.subscribe() is True

    socket = sockpub.test_client(app)
    try:
        assert "sockpub:model:user" in socket.get("/my/rooms").body["rooms"]
    finally:
        socket.disconnect()
