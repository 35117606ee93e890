"""What :mod:`flask_sockpub.internals` relies on in its dependencies, checked on the installed versions.

These tests fail loudly when an upgrade of python-socketio, python-engineio,
Flask-SocketIO or SQLAlchemy changes what the fast paths use: then re-check
the internals module and raise its tested ranges. The test command runs them
in the project's venv and again against the minimum versions ``setup.cfg``
declares (``scripts/test-min-versions``).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import flask_socketio
import pytest
import sqlalchemy as sa
from flask import Flask

from flask_sockpub import SockPub, internals, listen
from flask_sockpub.rooms.names import NAMESPACE
from flask_sockpub.state import app_state
from flask_sockpub.testing import SocketTestClient


def test_the_installed_versions_are_the_tested_ones() -> None:
    assert internals.untested_versions() == [], (
        "a dependency is outside the range flask_sockpub.internals was tested against: "
        "run tests/test_internals.py, then widen internals.TESTED"
    )
    assert internals.FAST_PATHS


def test_versions_outside_the_range_are_named() -> None:
    problems = internals.untested_versions(
        {"SQLAlchemy": ((0, 1), (0, 2)), "no-such-dist": ((1,), (2,))}
    )
    assert [problem.split(" ")[0] for problem in problems] == ["SQLAlchemy", "no-such-dist"]
    assert "outside the tested range 0.1 to before 0.2" in problems[0]
    assert problems[1] == "no-such-dist is not installed"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5.18.1", (5, 18, 1)),
        ("2.0.16", (2, 0, 16)),
        ("2.1.0b1", (2, 1, 0)),
        ("4.12rc1", (4, 12)),
        ("dev", ()),
    ],
)
def test_release_reads_the_numeric_part(text: str, expected: tuple[int, ...]) -> None:
    assert internals.release(text) == expected


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "internals"
    SockPub(app)

    @app.get("/join/<room>")
    def join(room: str) -> dict[str, bool]:
        return {"joined": listen(room)}

    return app


@pytest.fixture
def sockets(app: Flask) -> Iterator[list[SocketTestClient]]:
    clients = [SocketTestClient(app) for _ in range(3)]
    yield clients
    for client in clients:
        if client.connected:
            client.disconnect()


def joined(client: SocketTestClient, room: str) -> str:
    assert client.get(f"/join/{room}").body == {"joined": True}
    assert client.sid is not None
    return client.sid


def test_the_room_table_maps_socket_ids_to_engine_io_ids(
    app: Flask, sockets: list[SocketTestClient]
) -> None:
    manager = app_state(app).server.manager
    sid = joined(sockets[0], "a")
    table = internals.room_table(manager, NAMESPACE)
    assert table is not None
    room = table["sockpub:room:a"]
    assert dict(room) == {sid: sockets[0].client.eio_sid}
    # merge_room relies on copy(), update() and a constructor taking nothing.
    assert dict(room.copy()) == dict(room)
    assert len(type(room)()) == 0
    assert isinstance(manager.pending_disconnect, dict)
    assert table[None][sid] == sockets[0].client.eio_sid  # the connected sockets, by id


@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "public path"])
def test_merge_in_room_and_drop_agree_on_both_paths(
    app: Flask, sockets: list[SocketTestClient], monkeypatch: pytest.MonkeyPatch, fast: bool
) -> None:
    monkeypatch.setattr(internals, "FAST_PATHS", fast)
    manager = app_state(app).server.manager
    first, second, third = (joined(client, "source") for client in sockets)
    sockets[2].disconnect()  # gone: must not be merged
    internals.merge_room(manager, NAMESPACE, "sockpub:room:source", "target", skip_sid=second)
    assert sorted(internals.room_member_ids(manager, NAMESPACE, "target")) == [first]
    assert internals.in_room(manager, NAMESPACE, first, "target")
    assert not internals.in_room(manager, NAMESPACE, second, "target")
    assert not internals.in_room(manager, NAMESPACE, third, "target")
    internals.drop_room(manager, NAMESPACE, "target")
    assert list(internals.room_member_ids(manager, NAMESPACE, "target")) == []
    assert sorted(internals.room_member_ids(manager, NAMESPACE, "sockpub:room:source")) == sorted(
        [first, second]
    )


def test_flask_socketio_runs_plain_handlers_through_handle_event() -> None:
    parameters = list(inspect.signature(flask_socketio.SocketIO._handle_event).parameters)
    assert parameters[:5] == ["self", "handler", "message", "namespace", "sid"]
    assert isinstance(flask_socketio.SocketIO().server_options, dict)


def test_a_plain_handler_runs_after_the_hook(app: Flask) -> None:
    socketio = app_state(app).socketio
    seen: list[str] = []
    original = socketio.before_plain_handler

    def hook(sid: str, namespace: str) -> None:
        seen.append("hook")
        original(sid, namespace)

    socketio.before_plain_handler = hook

    @socketio.on("ping me")
    def ping_me() -> str:
        seen.append("handler")
        return "pong"

    client = SocketTestClient(app)
    assert client.emit("ping me") == "pong"
    assert seen == ["hook", "handler"]
    client.disconnect()


def test_reset_server_options_forgets_an_earlier_queue() -> None:
    socketio = flask_socketio.SocketIO()
    socketio.server_options = {"message_queue": "redis://127.0.0.1:1"}
    internals.reset_server_options(socketio)
    assert socketio.server_options == {}


def test_select_limit_and_offset_are_seen() -> None:
    table = sa.table("t", sa.column("id"))
    assert not internals.has_limit_or_offset(sa.select(table))
    assert internals.has_limit_or_offset(sa.select(table).limit(3))
    assert internals.has_limit_or_offset(sa.select(table).offset(3))
    assert sa.select(table).limit(3)._limit_clause is not None


def test_engine_io_sockets_close_as_a_lost_transport_without_the_close_packet() -> None:
    # drop_transport: Socket.close(wait=False, abort=True, reason=...) sends no
    # CLOSE packet (after which clients would not reconnect); the server keeps
    # its sockets in a dict by Engine.IO id and names its reasons.
    import engineio
    from engineio import packet
    from engineio.socket import Socket

    assert {"wait", "abort", "reason"} <= set(inspect.signature(Socket.close).parameters)
    server = engineio.Server(async_mode="threading")
    assert server.sockets == {}
    socket = Socket(server, "abc")
    server.sockets["abc"] = socket
    internals.drop_transport(server, "abc")
    assert server.sockets == {}
    assert socket.closed
    queued = [socket.queue.get_nowait() for _ in range(socket.queue.qsize())]
    assert queued == [None]  # the writer's end, and no packet.CLOSE before it
    assert packet.CLOSE not in [getattr(item, "packet_type", None) for item in queued]
    assert server.reason.SERVER_DISCONNECT
