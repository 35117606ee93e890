"""Connect-time auth: ``current_socket.auth``, ``@sockpub.on_connect`` and the refusals clients see.

The rules live in tests/apps/clients.py. Each behaviour is shown through the
test client (no network) and over a real server with the Python client.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask, request
from flask_socketio import ConnectionRefusedError

from flask_sockpub import SockPub, current_socket, listen
from flask_sockpub.client import Client, ConnectionRefused
from flask_sockpub.testing import Inbox, LiveServer
from tests.apps import clients


@pytest.fixture
def clients_app() -> Flask:
    return clients.create_app()


def sockpub_of(app: Flask) -> SockPub:
    return app.extensions["sockpub"].sockpub  # type: ignore[no-any-return]


# -- current_socket.auth -------------------------------------------------------


def test_view_reads_the_auth_payload_as_current_socket_auth(clients_server: LiveServer) -> None:
    with Client(clients_server.url, auth={"token": "good-token"}) as client:
        assert client.get("/auth").body == {
            "auth": {"token": "good-token"},
            "user": "randy",
            "seen_by_plain_handler": True,
        }


def test_bearer_header_becomes_a_token_in_current_socket_auth(clients_server: LiveServer) -> None:
    with Client(clients_server.url, headers={"Authorization": "Bearer other-token"}) as client:
        assert client.get("/auth").body["auth"] == {"token": "other-token"}
        assert client.get("/auth").body["user"] == "amanda"


def test_auth_payload_wins_over_a_bearer_header(clients_app: Flask) -> None:
    socket = sockpub_of(clients_app).test_client(
        clients_app, auth={"token": "good-token"}, headers={"Authorization": "Bearer other-token"}
    )
    assert socket.get("/auth").body["auth"] == {"token": "good-token"}


def test_auth_is_none_without_payload_or_bearer_header(clients_app: Flask) -> None:
    socket = sockpub_of(clients_app).test_client(
        clients_app, headers={"Authorization": "Basic cmFuZHk6eA=="}
    )
    assert socket.get("/auth").body["auth"] is None


def test_auth_through_the_test_client(clients_app: Flask) -> None:
    socket = sockpub_of(clients_app).test_client(clients_app, auth={"token": "good-token"})
    assert socket.get("/auth").body["user"] == "randy"


# -- refusing sockets ----------------------------------------------------------


def test_connect_hook_refuses_a_bad_token_and_the_client_gets_the_reason(
    clients_server: LiveServer,
) -> None:
    with pytest.raises(ConnectionRefused, match="refused the socket: invalid token") as refused:
        Client(clients_server.url, auth={"token": "stolen-token"})
    assert refused.value.data == {"hint": "ask for a new token"}


def test_a_bad_bearer_header_is_refused_the_same_way(clients_server: LiveServer) -> None:
    with pytest.raises(ConnectionRefused, match="invalid token"):
        Client(clients_server.url, headers={"Authorization": "Bearer stolen-token"})


def test_connect_hook_returning_false_refuses_the_socket(clients_server: LiveServer) -> None:
    with pytest.raises(
        ConnectionRefused, match="refused the socket: Connection rejected by server"
    ):
        Client(clients_server.url, auth={"token": "refuse-quietly"})


def test_failing_connect_hook_refuses_without_saying_why(clients_server: LiveServer) -> None:
    with pytest.raises(ConnectionRefused, match="refused the socket: internal server error"):
        Client(clients_server.url, auth={"token": "crash-the-hook"})
    assert "the token service is down" in clients_server.log()


def test_refused_socket_is_not_connected_through_the_test_client(clients_app: Flask) -> None:
    socket = sockpub_of(clients_app).test_client(clients_app, auth={"token": "stolen-token"})
    assert not socket.connected


# -- plain Flask-SocketIO handlers beside the hooks ----------------------------


def test_plain_socketio_connect_handler_runs_beside_the_hook(clients_app: Flask) -> None:
    socket = sockpub_of(clients_app).test_client(clients_app, auth={"token": "good-token"})
    assert clients.SEEN_BY_PLAIN_HANDLER[socket.sid] == {"token": "good-token"}
    assert socket.get("/auth").body["seen_by_plain_handler"] is True


def test_plain_socketio_connect_handler_can_refuse_too(clients_server: LiveServer) -> None:
    with pytest.raises(ConnectionRefused, match="Connection rejected by server"):
        Client(clients_server.url, auth={"token": "plain-handler-refuses"})


def test_hooks_run_in_registration_order_and_the_first_refusal_wins() -> None:
    app = Flask(__name__)
    sockpub = SockPub(app)
    calls: list[str] = []

    @sockpub.socketio.on("connect")
    def first() -> None:
        calls.append("plain")

    @sockpub.on_connect
    def second(auth: Any) -> None:
        calls.append("hook")
        raise ConnectionRefusedError("no")

    @sockpub.on_connect
    def third(auth: Any) -> None:
        calls.append("never")

    assert not sockpub.test_client(app).connected
    assert calls == ["plain", "hook"]


def test_connect_hook_runs_with_the_handshake_request() -> None:
    app = Flask(__name__)
    sockpub = SockPub(app)
    seen: dict[str, Any] = {}

    @sockpub.on_connect
    def look(auth: Any) -> None:
        seen.update(
            agent=request.headers.get("User-Agent"),
            sid=request.sid,  # type: ignore[attr-defined]
            socket=current_socket.id,
        )

    socket = sockpub.test_client(app, headers={"User-Agent": "tests"})
    assert seen == {"agent": "tests", "sid": socket.sid, "socket": socket.sid}


# -- disconnect hooks ----------------------------------------------------------


def test_disconnect_hooks_all_run_even_when_one_fails(clients_server: LiveServer) -> None:
    room_mate = Client(clients_server.url)
    try:
        inbox = Inbox(room_mate)
        room_mate.post("/rooms/presence/listen")
        with Client(clients_server.url) as leaving:
            sid = leaving.sid
        # The app's first disconnect hook always fails; the second still says goodbye.
        inbox.wait_for(lambda item: item.data.get("left") == sid)
        assert "a disconnect hook that fails" in clients_server.log()
    finally:
        room_mate.close()


def test_disconnect_hooks_get_the_reason_or_nothing_as_they_ask() -> None:
    app = Flask(__name__)
    sockpub = SockPub(app)
    calls: list[Any] = []

    @sockpub.on_disconnect
    def with_reason(reason: str) -> None:
        calls.append(("hook", reason))

    @sockpub.socketio.on("disconnect")
    def older_style() -> None:
        calls.append(("plain", current_socket.id))

    socket = sockpub.test_client(app)
    sid = socket.sid
    socket.disconnect()
    assert calls == [("hook", "client disconnect"), ("plain", sid)]


def test_socket_leaves_its_rooms_even_when_a_disconnect_hook_fails() -> None:
    app = Flask(__name__)
    sockpub = SockPub(app)
    room = f"room-{uuid.uuid4().hex}"

    @sockpub.on_disconnect
    def fail(reason: str) -> None:
        raise RuntimeError("a disconnect hook that fails")

    @app.post("/listen")
    def join() -> Any:
        return {"listening": listen(room)}

    socket = sockpub.test_client(app)
    socket.post("/listen")
    server = app.extensions["sockpub"].server
    sid = socket.sid

    def members() -> list[str]:
        return [
            member for member, _ in server.manager.get_participants("/", f"sockpub:room:{room}")
        ]

    assert members() == [sid]
    socket.disconnect()
    assert members() == []
