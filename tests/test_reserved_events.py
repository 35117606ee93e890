"""Events a client may not send: ``connect``, ``disconnect`` and SockPub's own ``sockpub:*``.

python-socketio raises ``connect`` and ``disconnect`` itself, and a client
event of the same name used to run the app's connect and disconnect hooks
while the socket stayed connected (in the chat demo: fake "eve left" lines).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from flask_sockpub import SockPub, current_socket
from flask_sockpub.client import Client
from flask_sockpub.testing import Inbox, LiveServer, SocketTestClient, live_server
from flask_sockpub.wire.packets import MALFORMED_EVENT, UNACKED_EVENT

REFUSED_NAMES = [
    "connect",
    "disconnect",
    "Disconnect",
    "connect_error",
    MALFORMED_EVENT,
    UNACKED_EVENT,
    "sockpub:anything",
]


def hooked_app() -> tuple[Flask, list[str]]:
    """An app whose connect and disconnect hooks (SockPub's and plain ones) note each run."""
    app = Flask(__name__)
    sockpub = SockPub(app)
    runs: list[str] = []

    @sockpub.on_connect
    def connected(auth: Any) -> None:
        runs.append(f"connect {current_socket.id}")

    @sockpub.on_disconnect
    def gone(reason: str) -> None:
        runs.append(f"disconnect {current_socket.id}")

    @sockpub.socketio.on("disconnect", namespace="/chat")
    def chat_gone(reason: str) -> None:
        runs.append("disconnect /chat")

    @sockpub.socketio.on("connect", namespace="/chat")
    def chat_connected(auth: Any = None) -> None:
        runs.append("connect /chat")

    @app.get("/echo")
    def echo() -> dict[str, str]:
        return {"socket": current_socket.id}

    return app, runs


def assert_answers(socket: SocketTestClient) -> None:
    answer = socket.get("/echo")
    assert (answer.status_code, answer.body) == (200, {"socket": socket.sid})


@pytest.mark.parametrize("name", REFUSED_NAMES)
def test_a_reserved_event_from_a_client_gets_a_400_and_runs_no_hook(name: str) -> None:
    app, runs = hooked_app()
    sockpub = app.extensions["sockpub"].sockpub
    sender, bystander = sockpub.test_client(app), sockpub.test_client(app)
    runs.clear()
    jwr = sender.emit(name, {"method": "GET", "url": "/echo"})
    assert jwr["statusCode"] == 400
    assert "reserved" in jwr["body"]["error"] and name in jwr["body"]["error"]
    # Without an acknowledgement: nothing to answer, and still no hook.
    sender.client.emit(name, "get", {"url": "/echo"})
    assert runs == []
    assert sender.connected
    assert_answers(sender)
    assert_answers(bystander)


@pytest.mark.parametrize("name", ["connect", "disconnect"])
def test_a_reserved_event_on_another_namespace_runs_no_hook(name: str) -> None:
    app, runs = hooked_app()
    state = app.extensions["sockpub"]
    chat = state.socketio.test_client(app, namespace="/chat")
    bystander = state.sockpub.test_client(app)
    runs.clear()
    answer = chat.emit(name, {"x": 1}, namespace="/chat", callback=True)
    assert answer["statusCode"] == 400 and "reserved" in answer["body"]["error"]
    assert runs == []
    assert chat.is_connected("/chat")
    assert_answers(bystander)


def test_events_of_other_names_still_reach_the_apps_handlers() -> None:
    app, runs = hooked_app()
    state = app.extensions["sockpub"]

    @state.socketio.on("disconnecting")
    def not_reserved_by_python_socketio(data: Any) -> str:  # pragma: no cover - refused
        return "ran"

    @state.socketio.on("leave-room")
    def leave_room(data: Any) -> str:
        return f"left {data}"

    socket = state.sockpub.test_client(app)
    assert socket.emit("leave-room", "lobby") == "left lobby"
    assert socket.emit("disconnecting", "x")["statusCode"] == 400


# The chat demo, served for real: eve may not fake her own leaving.


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = tmp_path_factory.mktemp("chat") / "chat.sqlite"
    env = {"DATABASE_URL": f"sqlite:///{database}"}
    with live_server("examples.chat.app:create_app", env=env) as server:
        yield server


def visitor(server: LiveServer, nick: str) -> Client:
    """A socket whose session carries ``nick``, picked by the demo's HTTP form."""
    picked = requests.post(server.url + "/", data={"nick": nick}, allow_redirects=False)
    assert picked.status_code == 302
    return Client(server.url, cookies=picked.cookies.get_dict())


def test_chat_demo_a_disconnect_event_from_eve_stores_no_fake_left_line(
    chat_server: LiveServer, tmp_path: Path
) -> None:
    with visitor(chat_server, "bob") as bob, visitor(chat_server, "eve") as eve:
        room = "edge-" + tmp_path.name[-12:].lower().replace("_", "-")
        heard = Inbox(bob)
        assert bob.get(f"/rooms/{room}").status_code == 200
        assert eve.get(f"/rooms/{room}").status_code == 200
        heard.wait_for(lambda item: item.data["line"]["kind"] == "joined")

        answer = eve.emit("disconnect", "transport close")
        assert eve.post(f"/rooms/{room}/lines", {"text": "still here"}).status_code == 201
        said = heard.wait_for(lambda item: item.data["line"]["kind"] == "said")
        assert said.data["line"]["nick"] == "eve" and said.data["people"] == ["bob", "eve"]
        history = bob.get(f"/rooms/{room}").body["lines"]
        assert [line["kind"] for line in history if line["nick"] == "eve"] == ["joined", "said"]
        assert answer["statusCode"] == 400 and "reserved" in answer["body"]["error"]
