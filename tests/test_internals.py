"""What :mod:`flask_sockpub.internals` relies on in its dependencies, checked on the installed versions.

These tests fail loudly when an upgrade of python-socketio, python-engineio,
Flask-SocketIO or SQLAlchemy changes what the fast paths use: then re-check
the internals module and raise its tested ranges. The test command runs them
in the project's venv and again against the minimum versions ``setup.cfg``
declares (``scripts/test-min-versions``).
"""

from __future__ import annotations

import inspect
import json
import queue
import socket
from collections.abc import Iterator
from typing import Any

import flask_socketio
import pytest
import socketio
import socketio.manager
import sqlalchemy as sa
from flask import Blueprint, Flask, abort, g
from socketio.pubsub_manager import PubSubManager

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


# python-socketio's message queue: what internals.QueueHooks relies on


class LoopbackBackend(PubSubManager):
    """A queue without a server: what is published is kept; ``_listen`` yields what it is fed."""

    def __init__(self) -> None:
        super().__init__(channel="internals-test")
        self.published: list[dict[str, Any]] = []
        self.incoming: list[Any] = []

    def _publish(self, data: Any) -> None:
        self.published.append(data)

    def _listen(self) -> Iterator[Any]:
        yield from self.incoming


class LoopbackQueue(internals.QueueHooks, LoopbackBackend):
    pass


@pytest.fixture
def delivered(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Every emit python-socketio's manager applies to this process's sockets."""
    calls: list[tuple[Any, ...]] = []

    def spy(
        self: Any, event: str, data: Any, namespace: str, room: Any = None, **kwargs: Any
    ) -> None:
        calls.append((event, data, namespace, room))

    monkeypatch.setattr(socketio.manager.Manager, "emit", spy)
    return calls


def test_an_own_emit_is_published_and_applied_when_the_queue_delivers_it(
    delivered: list[tuple[Any, ...]],
) -> None:
    queue = LoopbackQueue()
    socketio.Server(client_manager=queue, async_mode="threading")
    queue.emit("news", {"n": 1}, namespace="/", room="lobby")
    [message] = queue.published
    assert message["method"] == "emit" and message["host_id"] == queue.host_id
    assert delivered == []  # not at once: python-socketio's emit went through _handle_emit
    queue.incoming = [json.dumps(message)]
    queue._thread()  # returns when _listen is exhausted
    assert delivered == [("news", {"n": 1}, "/", "lobby")]


def emitted_elsewhere(event: str, data: Any, room: str | None) -> dict[str, Any]:
    """The message another process's manager publishes for an emit."""
    elsewhere = LoopbackQueue()
    elsewhere.emit(event, data, namespace="/", room=room)
    [message] = elsewhere.published
    return message


def test_another_process_emit_reaches_python_socketio_decoded_once(
    delivered: list[tuple[Any, ...]],
) -> None:
    queue = LoopbackQueue()
    socketio.Server(client_manager=queue, async_mode="threading")
    other = emitted_elsewhere("news", {"n": 2}, "lobby")
    queue.incoming = [json.dumps(other).encode(), other]  # Redis gives bytes, kombu may give dicts
    queue._thread()
    assert delivered == [("news", {"n": 2}, "/", "lobby")] * 2


def test_messages_taken_by_the_hook_never_reach_python_socketio(
    delivered: list[tuple[Any, ...]],
) -> None:
    queue = LoopbackQueue()
    socketio.Server(client_manager=queue, async_mode="threading")
    taken: list[dict[str, Any]] = []
    queue.take_message = lambda message: (
        message.get("method") == "ours" and not taken.append(message)
    )
    ours = {"method": "ours", "host_id": "another process"}
    emit = emitted_elsewhere("news", 1, None)
    queue.incoming = [json.dumps(ours), "not json", json.dumps(emit)]
    queue._thread()
    assert taken == [ours]
    assert delivered == [("news", 1, "/", None)]


def test_publishing_goes_through_publish() -> None:
    queue = LoopbackQueue()
    internals.publish_on_queue(queue, {"method": "ours"})
    assert queue.published == [{"method": "ours"}]
    assert isinstance(queue.host_id, str) and queue.host_id


def test_the_listener_starts_before_the_first_connection() -> None:
    queue = LoopbackQueue()
    server = socketio.Server(client_manager=queue, async_mode="threading")
    assert server.manager_initialized is False
    started: list[bool] = []
    queue.initialize = lambda: started.append(True)  # type: ignore[method-assign]
    internals.start_queue_listener(server)
    internals.start_queue_listener(server)
    assert server.manager_initialized is True
    assert started == [True]


def test_flask_checks_a_blueprints_setup_through_check_setup_finished() -> None:
    checked: list[str] = []

    class Watched(Blueprint):
        def _check_setup_finished(self, f_name: str) -> None:
            checked.append(f_name)

    watched = Watched("watched", __name__)
    watched.before_request(lambda: None)
    watched.register_error_handler(404, lambda error: ("gone", 404))
    watched.add_url_rule("/x", "x", lambda: "x")
    assert checked[:3] == ["before_request", "register_error_handler", "add_url_rule"]
    app = Flask(__name__)
    app.register_blueprint(watched)
    # Registration copies the blueprint's hooks into the app's per-blueprint registries.
    assert app.before_request_funcs["watched"] == watched.before_request_funcs[None]
    assert app.before_request_funcs["watched"] is not watched.before_request_funcs[None]
    assert app.error_handler_spec["watched"][404] == watched.error_handler_spec[None][404]
    assert not app._got_first_request
    assert app.test_client().get("/x").status_code == 200
    assert app._got_first_request


def test_a_late_setup_blueprint_takes_hooks_after_registration_until_the_app_serves() -> None:
    blueprint = internals.LateSetupBlueprint("late", __name__, url_prefix="/late")
    blueprint.add_url_rule("/", "index", lambda: {"index": g.get("marked")})
    app = Flask(__name__)
    app.register_blueprint(blueprint)

    @blueprint.before_request
    def mark() -> None:
        g.marked = True

    @blueprint.after_request
    def tag(response: Any) -> Any:
        response.headers["X-Late"] = "yes"
        return response

    @blueprint.get("/teapot")
    def teapot() -> Any:
        abort(418)

    @blueprint.errorhandler(418)
    def short_and_stout(error: Any) -> Any:
        return {"teapot": True}, 418

    @blueprint.before_app_request
    def everywhere() -> None:
        g.everywhere = True

    @app.get("/elsewhere")
    def elsewhere() -> Any:
        return {"everywhere": g.get("everywhere"), "marked": g.get("marked")}

    client = app.test_client()
    index = client.get("/late/")
    assert (index.get_json(), index.headers["X-Late"]) == ({"index": True}, "yes")
    assert client.get("/late/teapot").get_json() == {"teapot": True}
    assert client.get("/elsewhere").get_json() == {"everywhere": True, "marked": None}
    with pytest.raises(AssertionError, match="has already handled a request"):
        blueprint.after_request(tag)


# python-socketio's event path and Engine.IO's queues (the limits per socket)


def test_python_socketio_handles_events_through_the_intercepted_methods() -> None:
    def parameters(function: Any) -> list[str]:
        return list(inspect.signature(function).parameters)

    assert parameters(socketio.Server._handle_event) == [
        "self",
        "eio_sid",
        "namespace",
        "id",
        "data",
    ]
    assert parameters(socketio.Server._handle_event_internal) == [
        "self", "server", "sid", "eio_sid", "data", "namespace", "id",
    ]  # fmt: skip
    assert parameters(socketio.Server._send_packet) == ["self", "eio_sid", "pkt"]


def test_an_intercepted_event_is_answered_or_run_and_its_environ_found(app: Flask) -> None:
    server = app_state(app).server
    admitted: list[str] = []
    ran: list[bool] = []

    def admit(
        eio_sid: str, namespace: str | None, id: int | None, data: list[Any], proceed: Any
    ) -> None:
        admitted.append(data[0])
        if data[0] == "refused":
            assert id is not None
            internals.send_ack(server, eio_sid, namespace, id, [{"refused": True}])
        else:
            proceed()

    def run(eio_sid: str, proceed: Any) -> None:
        environ = internals.connection_environ(server, eio_sid)
        ran.append(environ is not None and environ["flask.app"] is app)
        proceed()

    internals.intercept_events(server, admit, run)
    client = SocketTestClient(app)
    try:
        assert client.emit("refused", {}) == {"refused": True}
        assert client.get("/join/x").body == {"joined": True}
        assert admitted == ["refused", "get"]
        assert ran == [True]  # the refused event never reached its task
        assert internals.connection_environ(server, "no-such-socket") is None
    finally:
        client.disconnect()


def test_engine_io_queues_each_sockets_packets_until_they_are_written() -> None:
    import engineio
    from engineio import packet as eio_packet
    from engineio.socket import Socket as EngineSocket

    eio = engineio.Server(async_mode="threading", ping_interval=(10, 3), ping_timeout=7)
    assert internals.ping_deadline(eio) == 20.0
    eio.sockets["s1"] = EngineSocket(eio, "s1")
    assert internals.queued_packets(eio, "s1") == 0
    eio.send_packet("s1", eio_packet.Packet(eio_packet.MESSAGE, "hello"))
    eio.send_packet("s1", eio_packet.Packet(eio_packet.MESSAGE, "again"))
    assert internals.queued_packets(eio, "s1") == 2
    internals.drop_queued_packets(eio, "s1")
    assert internals.queued_packets(eio, "s1") == 0
    assert internals.queued_packets(eio, "gone") is None
    internals.drop_queued_packets(eio, "gone")  # nothing to do, no error


class RefuseBigAttachments(internals.AttachmentGate):
    dropped = False

    def keep_attachment(self, attachment: bytes) -> bool:
        return len(attachment) <= 3

    def attachments_dropped(self) -> None:
        self.dropped = True


BINARY_EVENT = '52-["upload",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'


def test_a_binary_packet_is_rebuilt_from_its_kept_attachments() -> None:
    pkt = RefuseBigAttachments(encoded_packet=BINARY_EVENT)
    assert pkt.attachment_count == 2
    assert pkt.add_attachment(b"abc") is False
    assert pkt.add_attachment(b"de") is True
    assert pkt.data == ["upload", b"abc", b"de"] and not pkt.dropped
    with pytest.raises(ValueError):
        pkt.add_attachment(b"f")


def test_a_binary_packet_keeps_nothing_once_an_attachment_is_refused() -> None:
    pkt = RefuseBigAttachments(encoded_packet=BINARY_EVENT)
    assert pkt.add_attachment(b"too big") is False
    assert pkt.attachments == []
    assert pkt.add_attachment(b"ok") is True
    assert pkt.attachments == [] and pkt.dropped
    assert pkt.data[0] == "upload"  # left for attachments_dropped to replace


class RecordingSocket:
    """A socket simple-websocket writes on, recording that it did."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.sent = 0
        self.dupped: RecordingSocket | None = None

    def send(self, data: bytes, flags: int = 0) -> int:
        self.sent += len(data)
        return self.sock.send(data, flags)  # type: ignore[no-any-return]

    def dup(self) -> RecordingSocket:
        self.dupped = RecordingSocket(self.sock.dup())
        return self.dupped

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


HANDSHAKE = {
    "REQUEST_METHOD": "GET",
    "HTTP_HOST": "127.0.0.1",
    "HTTP_UPGRADE": "websocket",
    "HTTP_CONNECTION": "Upgrade",
    "HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ==",
    "HTTP_SEC_WEBSOCKET_VERSION": "13",
}


class GeventInput:
    """Shaped like gevent pywsgi's ``wsgi.input``: the socket is at ``rfile.raw._sock``."""

    def __init__(self, sock: Any) -> None:
        self.rfile = type("Rfile", (), {"raw": type("Raw", (), {"_sock": sock})()})()


@pytest.mark.parametrize("server", ["werkzeug", "gunicorn", "gevent"])
def test_simple_websocket_writes_on_the_socket_put_in_the_environ(server: str) -> None:
    import simple_websocket

    server_side, client_side = socket.socketpair()
    environ: dict[str, Any] = dict(HANDSHAKE)
    if server == "gevent":
        environ["SERVER_SOFTWARE"] = "gevent/24"
        environ["wsgi.input"] = GeventInput(server_side)
    else:
        environ[f"{server}.socket"] = server_side
    wrapped: list[tuple[RecordingSocket, bool]] = []

    def wrap(sock: Any, duplicated: bool) -> RecordingSocket:
        wrapped.append((RecordingSocket(sock), duplicated))
        return wrapped[-1][0]

    assert internals.replace_websocket_socket(environ, wrap)
    ws = simple_websocket.Server(environ)
    try:
        [(recorder, duplicated)] = wrapped
        assert duplicated == (server == "gevent")
        # simple-websocket wrote its handshake answer on the wrapper (or on the duplicate it made).
        writer = recorder.dupped if duplicated else recorder
        assert writer is not None and ws.sock is writer and writer.sent > 0
        client_side.settimeout(5)
        assert client_side.recv(4096).startswith(b"HTTP/1.1 101")
    finally:
        ws.close()
        client_side.close()
        server_side.close()
        if server == "gevent" and wrapped[0][0].dupped is not None:
            wrapped[0][0].dupped.sock.close()


def test_no_socket_for_simple_websocket_is_said() -> None:
    assert not internals.replace_websocket_socket(dict(HANDSHAKE), lambda sock, dup: sock)


def test_engine_io_sends_a_ping_after_sleeping_out_the_interval_unless_closing() -> None:
    # ping_on_timers replaces that sleep with a timer and runs the rest itself.
    from engineio import packet as eio_packet
    from engineio.socket import Socket as EngineSocket

    slept: list[float] = []

    class Server:
        ping_interval = 7

        def sleep(self, seconds: float) -> None:
            slept.append(seconds)

    for closing, closed in ((False, False), (True, False), (False, True)):
        theirs, ours = FakeSocket(Server(), closing, closed), FakeSocket(Server(), closing, closed)
        EngineSocket._send_ping(theirs)  # type: ignore[arg-type]
        internals._send_ping_now(ours)
        assert slept.pop() == 7
        assert [p.packet_type for p in theirs.sent] == [p.packet_type for p in ours.sent]
        assert (theirs.last_ping is None) == (ours.last_ping is None) == (closing or closed)
        assert [p.packet_type for p in ours.sent] == (
            [] if closing or closed else [eio_packet.PING]
        )


class FakeSocket:
    """What ``Socket._send_ping`` touches of an engine.io socket."""

    def __init__(self, server: Any, closing: bool, closed: bool) -> None:
        self.server = server
        self.closing = closing
        self.closed = closed
        self.last_ping: float | None = None
        self.sent: list[Any] = []

    def send(self, pkt: Any) -> None:
        self.sent.append(pkt)


def test_engine_io_schedules_each_ping_through_start_background_task() -> None:
    import engineio
    from engineio.socket import Socket as EngineSocket

    started: list[Any] = []
    eio = engineio.Server(async_mode="threading")
    eio.start_background_task = lambda target, *args, **kwargs: started.append(target)  # type: ignore[method-assign]
    sock = EngineSocket(eio, "s1")
    sock.schedule_ping()
    assert [target.__func__ for target in started] == [EngineSocket._send_ping]


def test_under_gevent_a_socket_waits_for_its_ping_without_a_greenlet() -> None:
    pytest.importorskip("gevent")  # not in the venv of minimum versions
    import gc

    import engineio
    import gevent
    import greenlet
    from engineio import packet as eio_packet
    from engineio.socket import Socket as EngineSocket

    def parked_greenlets() -> int:
        gc.collect()
        return sum(
            1
            for obj in gc.get_objects()
            if isinstance(obj, greenlet.greenlet) and obj and not obj.dead
        )

    eio = engineio.Server(async_mode="gevent", ping_interval=0.2)
    assert internals.ping_on_timers(eio)
    live, gone = EngineSocket(eio, "live"), EngineSocket(eio, "gone")
    before = parked_greenlets()
    live.schedule_ping()
    gone.schedule_ping()
    gone.closed = True
    assert parked_greenlets() == before  # nothing waits but two timers
    gevent.sleep(0.5)
    assert [live.queue.get_nowait().packet_type] == [eio_packet.PING]
    assert live.last_ping is not None
    assert gone.queue.qsize() == 0
    # Other tasks start as before.
    assert eio.start_background_task(lambda: 42).get() == 42


def test_pings_wait_on_timers_only_under_gevent() -> None:
    import engineio

    assert not internals.ping_on_timers(engineio.Server(async_mode="threading"))


def test_under_gevent_simple_websocket_connections_are_read_by_their_own_greenlet() -> None:
    pytest.importorskip("gevent")  # not in the venv of minimum versions
    import gc

    import gevent
    import gevent.socket
    import greenlet
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import (
        AcceptConnection,
        CloseConnection,
        Request,
        TextMessage,
    )

    def live_greenlets() -> int:
        gc.collect()
        return sum(
            1
            for obj in gc.get_objects()
            if isinstance(obj, greenlet.greenlet) and obj and not obj.dead
        )

    server_end, client_end = gevent.socket.socketpair()
    client = WSConnection(ConnectionType.CLIENT)
    request = client.send(Request(host="127.0.0.1", target="/socket.io/"))
    key = next(
        line.split(b":", 1)[1].strip().decode()
        for line in request.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key:")
    )
    environ = {
        **HANDSHAKE,
        "HTTP_SEC_WEBSOCKET_KEY": key,
        "SERVER_SOFTWARE": "gevent/24",
        "wsgi.input": GeventInput(server_end),
    }
    received: list[str] = []

    def engine_io_loop(ws: Any) -> list[Any]:  # what Engine.IO's WebSocket handler does
        while (message := ws.wait()) is not None:
            received.append(message)
            ws.send(f"echo {message}")
        return []

    def client_events() -> list[Any]:
        client.receive_data(client_end.recv(4096))
        return list(client.events())

    before = live_greenlets()
    websocket_wsgi = internals._inline_websocket_wsgi()
    served = gevent.spawn(websocket_wsgi(engine_io_loop, None), environ, None)
    assert any(isinstance(event, AcceptConnection) for event in client_events())
    for text in ("hello", "again"):
        client_end.sendall(client.send(TextMessage(data=text)))
        [answer] = client_events()
        assert answer.data == f"echo {text}"
    # The request's greenlet reads the connection: no reader greenlet beside it.
    assert live_greenlets() == before + 1
    client_end.sendall(client.send(CloseConnection(code=1000)))
    assert served.get(timeout=5) == []
    assert received == ["hello", "again"]
    client_end.close()
    server_end.close()


def test_simple_websocket_reads_in_a_thread_whose_loop_inline_reads_repeats() -> None:
    # _InlineReads runs the body of Base._thread's loop; these are the calls it makes.
    import simple_websocket

    source = inspect.getsource(simple_websocket.ws.Base._thread)
    for step in (
        "in_data = self.sock.recv(self.receive_bytes)",
        "self.ws.receive_data(in_data)",
        "self.connected = self._handle_events()",
        "self.sock.close()",
    ):
        assert step in source
    assert "thread_class(target=self._thread)" in inspect.getsource(simple_websocket.ws.Base)


def test_websockets_are_read_inline_only_under_gevent_with_simple_websocket() -> None:
    pytest.importorskip("gevent")  # not in the venv of minimum versions
    import engineio

    assert not internals.read_websockets_inline(engineio.Server(async_mode="threading"))
    # The tests' environment has gevent-websocket, which then serves WebSockets.
    assert not internals.read_websockets_inline(engineio.Server(async_mode="gevent"))


# Shared frames (flask_sockpub/serving/fanout.py)


def test_the_shared_frame_hooks_are_on_at_the_installed_versions() -> None:
    assert internals.untested_versions(internals.SHARED_FRAMES_TESTED) == []
    assert internals.SHARED_FRAMES


def test_a_room_emit_hands_one_engine_io_packet_to_every_member() -> None:
    server = socketio.Server(async_mode="threading")
    server.manager.initialize()
    members = {}
    for eio_sid in ("e1", "e2", "e3"):
        sid = server.manager.connect(eio_sid, "/")
        members[eio_sid] = sid
        server.manager.enter_room(sid, "/", "news", eio_sid=eio_sid)
    handed: list[tuple[str, Any]] = []
    internals.intercept_room_packets(
        server, lambda eio_sid, eio_packet, original: handed.append((eio_sid, eio_packet))
    )
    server.emit("message", {"n": 1}, to="news", skip_sid=members["e3"])
    assert sorted(eio_sid for eio_sid, _ in handed) == ["e1", "e2"]
    assert handed[0][1] is handed[1][1]
    assert handed[0][1].encode() == '42["message",{"n":1}]'


def test_the_writer_queue_knows_when_its_writer_waits_on_it_empty() -> None:
    pytest.importorskip("gevent")  # not in the venv of minimum versions
    queue_class = internals.writer_queue_class("gevent")
    assert queue_class is not None
    outgoing = queue_class()
    assert outgoing.write_if_idle(lambda: "written") is None  # no writer waits yet
    outgoing.put("a")
    assert outgoing.get(timeout=1) == "a"  # the writer took it: busy until its next wait
    assert outgoing.write_if_idle(lambda: "written") is None
    outgoing.writer_idle = True  # what a blocking get() sets while it waits
    assert outgoing.write_if_idle(lambda: "written") == "written"
    outgoing.put("b")
    assert outgoing.write_if_idle(lambda: "written") is None  # a packet waits
    assert outgoing.get(block=False) == "b"
    assert internals.writer_queue_class("eventlet") is None
    assert internals.writer_queue_class("threading") is None


def test_engine_io_writes_queued_packets_through_the_websocket_its_handler_gets() -> None:
    """Engine.IO's WebSocket handler: what watch_websockets and the frame writer rely on."""
    import threading

    import engineio
    from engineio.socket import Socket as EngineSocket

    given: list[Any] = []

    class FakeWebSocketServer:
        """In the place of engine.io's driver class: runs the handler on a fake WebSocket."""

        def __init__(self, handler: Any, server: Any) -> None:
            self.handler = handler

        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            return self.handler(FakeWebSocket())

    class FakeWebSocket:
        sent = threading.Event()

        def wait(self) -> Any:
            assert self.sent.wait(5)
            return None  # the client left

        def close(self) -> None:
            pass

    class Writer:
        def __init__(self, ws: Any) -> None:
            self.ws = ws

        def send(self, message: Any) -> None:
            given.append(message)
            self.ws.sent.set()

        def __getattr__(self, name: str) -> Any:
            return getattr(self.ws, name)

    eio = engineio.Server(async_mode="threading")
    eio._async = {**eio._async, "websocket": FakeWebSocketServer}
    opened: list[Any] = []
    closed: list[Any] = []

    def open_lane(engine_socket: Any, ws: Any, environ: dict[str, Any]) -> Writer:
        opened.append((engine_socket, environ["HTTP_UPGRADE"]))
        assert not internals.takes_frames(engine_socket)  # not upgraded yet
        return Writer(ws)

    queue_class = queue.Queue  # the gevent one is not in the venv of minimum versions
    internals.watch_websockets(eio, queue_class, open_lane, closed.append)
    engine_socket = EngineSocket(eio, "s1")
    eio.sockets["s1"] = engine_socket
    outgoing = internals.outgoing_queue(engine_socket)
    assert isinstance(outgoing, queue_class)
    assert internals.engine_socket_id(engine_socket) == "s1"
    assert internals.client_answering(engine_socket)

    class Marked:
        def encode(self) -> str:
            return "marked"

    outgoing.put(Marked())
    environ = {"HTTP_UPGRADE": "websocket", "HTTP_CONNECTION": "Upgrade"}
    engine_socket.handle_get_request(environ, lambda *args: None)
    assert opened == [(engine_socket, "websocket")]
    assert given == ["marked"]  # the writer wrote what encode() gave, on the handler's WebSocket
    assert closed == [engine_socket]
    assert not internals.takes_frames(engine_socket)  # closed


def test_simple_websocket_under_engine_io_writes_text_as_one_plain_frame() -> None:
    from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI

    from flask_sockpub.serving.fanout import websocket_frame

    server_side, client_side = socket.socketpair()
    client_side.settimeout(5)
    environ: dict[str, Any] = {**HANDSHAKE, "werkzeug.socket": server_side}
    handed: list[Any] = []

    def handler(ws: Any) -> list[Any]:
        handed.append(ws)
        assert internals.websocket_connection(ws) is server_side
        assert internals.websocket_connected(ws)
        assert client_side.recv(4096).startswith(b"HTTP/1.1 101")
        ws.send('42["message",{"n":1}]')
        assert client_side.recv(4096) == websocket_frame('42["message",{"n":1}]')
        ws.close()
        return []

    try:
        try:
            SimpleWebSocketWSGI(handler, None)(environ, lambda *args: None)
        except ConnectionError:  # how engine.io 4.13 and later end a Werkzeug WebSocket
            pass
        assert len(handed) == 1
        assert not internals.websocket_connected(handed[0])
    finally:
        client_side.close()
        server_side.close()
