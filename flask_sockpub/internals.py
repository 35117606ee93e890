"""The one door to dependencies' private internals, checked against their versions.

SockPub reaches below the public API of its dependencies in a few places, each
for a measured reason, and only here:

* python-socketio's room table (``manager.rooms[namespace][room]``, a bidict of
  socket id -> engine.io id): :func:`merge_room` moves a whole class room into an
  instance room in one update (``publish_create``), :func:`drop_room` empties a
  room in one step (``publish_destroy``);
* Flask-SocketIO's ``SocketIO._handle_event``, the one place every plain handler
  runs through (:class:`PlainHandlerHook`), and ``SocketIO.server_options``,
  which it accumulates across ``init_app`` calls (:func:`reset_server_options`);
* python-engineio's ``Socket.close(abort=True)`` (:func:`drop_transport`):
  closes a socket's connection without the Engine.IO ``close`` packet, after
  which clients would not reconnect (a graceful shutdown wants them to);
* python-socketio's message-queue managers (``PubSubManager`` and its Redis
  and kombu subclasses): :class:`QueueHooks` sees every message the listener
  takes off the queue before python-socketio does (``_listen``), delivers a
  process's own emits in the queue's order (``_handle_emit``) and serialises
  publishing (``_publish``); :func:`publish_on_queue` puts a
  message of SockPub's own on the queue's channel, and
  :func:`start_queue_listener` starts the listener that python-socketio
  otherwise starts at the first connection (``Server.manager_initialized``);
* python-socketio's event path, for the limits per socket
  (:mod:`flask_sockpub.admission` holds the policy): ``Server._handle_event``,
  run in a socket's reader for every event packet, and
  ``Server._handle_event_internal``, the event's own task
  (:func:`intercept_events`); ``Server.environ``, the handshake environ by
  engine.io id (:func:`connection_environ`); ``Server._send_packet``, through
  which python-socketio sends an acknowledgement (:func:`send_ack`);
* Engine.IO's outgoing queue of a socket, ``Server.sockets[sid].queue``
  (:func:`queued_packets`, :func:`drop_queued_packets`), and its ping grace
  period (:func:`ping_deadline`);
* what an idle socket holds under gevent (:func:`ping_on_timers`: Engine.IO's
  ``Socket._send_ping`` task, started by ``Socket.schedule_ping``, waits on a
  timer rather than in a sleeping greenlet; :func:`read_websockets_inline`:
  Engine.IO's WebSocket class, ``Server._async["websocket"]``, makes
  simple-websocket connections read by the greenlet that waits on them, with
  no reader greenlet of their own, from ``Base._thread``'s read step);
* python-socketio's binary packets, ``Packet.attachment_count``,
  ``attachments`` and ``reconstruct_binary`` (:class:`AttachmentGate`);
* where simple-websocket finds the connection's socket in the WSGI environ
  (:func:`replace_websocket_socket`);
* the way a room emit reaches each member socket, for frames built once per
  emit (:mod:`flask_sockpub.serving.fanout` holds the policy):
  python-socketio's ``Server._send_eio_packet``, which its manager calls once
  per member with the same Engine.IO packet (:func:`intercept_room_packets`);
  the Engine.IO server's async driver table (``Server._async``), for a queue
  that says when a socket's writer waits on it empty (:class:`WriterQueue`)
  and for a look at each WebSocket as its handler starts
  (:func:`watch_websockets`); an Engine.IO socket's transport state
  (:func:`takes_frames`); and the connection socket under engine.io's
  simple-websocket wrapper (:func:`websocket_connection`). Only with
  :data:`SHARED_FRAMES`;
* SQLAlchemy's ``Select._limit_clause`` / ``_offset_clause``
  (:func:`has_limit_or_offset`), which have no public accessor;
* Flask's end of a blueprint's setup (``Blueprint._check_setup_finished``,
  ``Flask._got_first_request``) and the app's per-blueprint registries that
  registration fills by copy (:class:`LateSetupBlueprint`), so that a CRUD
  blueprint made after ``init_app`` still takes hooks.

At import, the installed versions are compared with :data:`TESTED`, the ranges
this module was written and tested against. Outside them, :data:`FAST_PATHS` is
False and every function takes the public-API path (slower, still correct), and
one log line says why. ``tests/test_internals.py`` fails loudly when an upgrade
changes what this module relies on.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

import flask_socketio
import sqlalchemy as sa
from engineio import packet as eio_packet
from flask import Blueprint, Flask
from socketio import packet
from sqlalchemy.orm.attributes import set_committed_value

logger = logging.getLogger("flask_sockpub")

#: Distribution -> (lowest tested version, first version not tested), as
#: release tuples. Raise the upper bounds after the internals tests pass on the
#: new release.
TESTED: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "python-socketio": ((5, 14), (5, 19)),
    "python-engineio": ((4, 12), (4, 16)),
    "Flask-SocketIO": ((5, 6, 1), (5, 8)),
    "SQLAlchemy": ((2, 0, 16), (2, 2)),
    "simple-websocket": ((1, 0), (1, 2)),
}


def release(text: str) -> tuple[int, ...]:
    """The numeric release of a version string: ``"5.18.1"`` -> ``(5, 18, 1)``; stops at a suffix."""
    parts: list[int] = []
    for piece in text.split("."):
        digits = ""
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    return tuple(parts)


def untested_versions(
    tested: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = TESTED,
) -> list[str]:
    """Each installed distribution outside its tested range, as a sentence; ``[]`` when all fit."""
    problems = []
    for name, (lowest, beyond) in tested.items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            problems.append(f"{name} is not installed")
            continue
        if not lowest <= release(installed) < beyond:
            problems.append(
                f"{name} {installed} is outside the tested range "
                f"{'.'.join(map(str, lowest))} to before {'.'.join(map(str, beyond))}"
            )
    return problems


def _check_versions() -> bool:
    problems = untested_versions()
    if problems:
        logger.warning(
            "flask_sockpub takes the public-API paths (slower, still correct): %s",
            "; ".join(problems),
        )
    return not problems


#: Whether the private fast paths below are used: the installed versions are
#: the ones they were tested against.
FAST_PATHS: bool = _check_versions()


# python-socketio's room table


def room_table(manager: Any, namespace: str) -> dict[Any, Any] | None:
    """The rooms of ``namespace``: room -> (socket id -> engine.io id); ``None`` if it has none."""
    return manager.rooms.get(namespace)  # type: ignore[no-any-return]


def merge_room(
    manager: Any, namespace: str, source: str, target: str, skip_sid: str | None
) -> None:
    """Put every socket of room ``source`` (but ``skip_sid``) in room ``target`` too.

    Fast path: one table update for the whole room, then sockets that
    disconnected meanwhile (threading) are taken out again. Public path: one
    ``basic_enter_room`` per socket, skipping sockets no longer connected.
    """
    if not FAST_PATHS:
        for sid, eio_sid in list(manager.get_participants(namespace, source)):
            if sid != skip_sid and manager.is_connected(sid, namespace):
                manager.basic_enter_room(sid, namespace, target, eio_sid=eio_sid)
        return
    table = room_table(manager, namespace)
    if table is None:
        return
    members = table.get(source)
    if not members:
        return
    added = members.copy()
    if skip_sid is not None:
        added.pop(skip_sid, None)
    if not added:
        return
    # setdefault: two threads creating the room at once must not drop each
    # other's members; the room's class is python-socketio's own (a bidict).
    table.setdefault(target, type(members)()).update(added)
    connected = table.get(None, {})
    leaving = manager.pending_disconnect.get(namespace, ())
    for sid in (added.keys() - connected.keys()) | (added.keys() & set(leaving)):
        manager.basic_leave_room(sid, namespace, target)


def drop_room(manager: Any, namespace: str, room: str) -> None:
    """Take every socket of this process out of ``room`` at once."""
    if not FAST_PATHS:
        manager.basic_close_room(room, namespace)
        return
    table = room_table(manager, namespace)
    if table is not None:
        table.pop(room, None)


def in_room(manager: Any, namespace: str, sid: str, room: str) -> bool:
    """Whether socket ``sid`` of this process is in ``room``."""
    if not FAST_PATHS:
        return room in manager.get_rooms(sid, namespace)
    table = room_table(manager, namespace) or {}
    return sid in (table.get(room) or ())


def has_sockets(manager: Any, namespace: str) -> bool:
    """Whether any socket is connected to this process on ``namespace`` (the room ``None`` holds them all)."""
    try:
        return any(True for _ in manager.get_participants(namespace, None))
    except KeyError:  # no socket ever connected there
        return False


def room_member_ids(manager: Any, namespace: str, room: str) -> Iterable[str]:
    """The ids of the sockets of this process in ``room`` (public API: no copy needed here)."""
    return [sid for sid, _ in manager.get_participants(namespace, room)]


def drop_transport(engine: Any, eio_sid: str) -> None:
    """Close the connection of Engine.IO socket ``eio_sid`` as a lost transport, so its client reconnects.

    Packets already queued (answers, messages) are sent first. Without the
    fast path: the public ``disconnect``, whose ``close`` packet tells the
    client not to reconnect.
    """
    if not FAST_PATHS:
        engine.disconnect(eio_sid)
        return
    socket = engine.sockets.pop(eio_sid, None)
    if socket is not None:
        socket.close(wait=False, abort=True, reason=engine.reason.SERVER_DISCONNECT)


# python-socketio's message queue


class QueueHooks:
    """Mixin for a python-socketio ``PubSubManager`` subclass: one order for every process.

    python-socketio's listener (``PubSubManager._thread``) reads the queue
    through ``_listen()``, a generator of raw messages, and dispatches each on
    its ``"method"``; an emit is applied at once by the process that makes it
    (``PubSubManager.emit`` calls ``_handle_emit`` before ``_publish``) and by
    the others when it arrives. So a process could deliver its own update
    before a create another process published earlier and it has not yet
    taken off the queue. With this mixin:

    * a process applies its own emits when they come back from the queue, like
      everybody else's (``_handle_emit`` skips them when called by ``emit``),
      so every process delivers in the queue's order;
    * each message is decoded once and offered to :attr:`take_message` first;
      a message it takes (one of SockPub's) never reaches python-socketio,
      the others go on decoded (``_thread`` accepts dicts);
    * ``_publish`` is serialised by a lock: the kombu manager shares one
      connection between every thread that publishes, which AMQP does not allow.

    There is no public-API path for this: outside :data:`TESTED` the hooks are
    used all the same (the warning at import says the versions are untested),
    and ``tests/test_internals.py`` says whether they still hold.
    """

    #: Called with each decoded message, in the queue's order; returns whether
    #: it was SockPub's.
    take_message: Callable[[dict[str, Any]], bool] | None = None
    host_id: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._publish_lock = threading.Lock()

    def _listen(self) -> Iterator[Any]:
        for message in super()._listen():  # type: ignore[misc]
            data = message
            if not isinstance(message, dict):
                try:
                    # The server's JSON module; python-socketio before 5.15 has none.
                    data = getattr(self, "json", json).loads(message)
                except Exception:  # python-socketio ignores what is not JSON; so do we
                    yield message
                    continue
            if not isinstance(data, dict):
                yield data
                continue
            take = self.take_message
            if take is not None and take(data):
                continue
            if data.get("method") == "emit" and data.get("host_id") == self.host_id:
                try:
                    super()._handle_emit(data)  # type: ignore[misc]
                except Exception:
                    logger.exception("an emit of this process could not be delivered")
                continue
            yield data

    def _handle_emit(self, message: dict[str, Any]) -> None:
        if message.get("host_id") == self.host_id:
            return  # this process's own: applied when the queue delivers it
        super()._handle_emit(message)  # type: ignore[misc]

    def _publish(self, data: Any) -> Any:
        with self._publish_lock:
            return super()._publish(data)  # type: ignore[misc]


def publish_on_queue(manager: Any, message: dict[str, Any]) -> None:
    """Put ``message`` on the manager's channel, to every process (this one included)."""
    manager._publish(message)


def start_queue_listener(server: Any) -> None:
    """Start the server's queue listener now, not at the first connection as python-socketio does."""
    if not server.manager_initialized:
        server.manager_initialized = True
        server.manager.initialize()


# python-socketio's event path and Engine.IO's queues (the limits per socket)


def connection_environ(server: Any, eio_sid: str) -> dict[str, Any] | None:
    """The handshake environ of engine.io connection ``eio_sid``; ``None`` once it is gone.

    python-socketio keeps it by engine.io id (``Server.environ``); its public
    ``get_environ`` takes a Socket.IO id, which the reader does not have yet.
    """
    return server.environ.get(eio_sid)  # type: ignore[no-any-return]


def intercept_events(
    server: Any,
    admit: Callable[[str, str | None, int | None, list[Any], Callable[[], None]], None],
    run: Callable[[str, Callable[[], None]], None],
) -> None:
    """Put ``admit`` and ``run`` around python-socketio's handling of every event packet.

    ``admit(eio_sid, namespace, id, data, proceed)`` runs in the socket's
    reader as each event is read (``Server._handle_event``), before any task
    is spawned for it; it calls ``proceed()`` to have the event handled, or
    answers it itself (:func:`send_ack`). ``run(eio_sid, proceed)`` runs in
    the event's own task (``Server._handle_event_internal``) and calls
    ``proceed()`` to run the handler and send its acknowledgement.
    There is no public-API path for this: the hooks are installed whatever
    the versions, and ``tests/test_internals.py`` says whether they still hold.

    :raises RuntimeError: this python-socketio has neither method.
    """
    missing = [
        name for name in ("_handle_event", "_handle_event_internal") if not hasattr(server, name)
    ]
    if missing:
        raise RuntimeError(
            f"python-socketio's Server has no {', '.join(missing)}: this python-socketio is not "
            "one SockPub knows how to apply its limits to (see flask_sockpub/internals.py)"
        )
    handle_event = server._handle_event
    handle_event_internal = server._handle_event_internal

    def admit_event(eio_sid: str, namespace: str | None, id: int | None, data: list[Any]) -> None:
        admit(eio_sid, namespace, id, data, lambda: handle_event(eio_sid, namespace, id, data))

    def run_event(
        server_: Any, sid: str, eio_sid: str, data: list[Any], namespace: str, id: int | None
    ) -> None:
        run(eio_sid, lambda: handle_event_internal(server_, sid, eio_sid, data, namespace, id))

    server._handle_event = admit_event
    server._handle_event_internal = run_event


def send_ack(server: Any, eio_sid: str, namespace: str | None, id: int, data: list[Any]) -> None:
    """Acknowledge event ``id`` with ``data``, the way python-socketio answers a handler.

    Through ``Server._send_packet``, so Flask-SocketIO's test client, which
    catches that method, sees the answer too.
    """
    server._send_packet(
        eio_sid, server.packet_class(packet.ACK, namespace=namespace, id=id, data=data)
    )


def queued_packets(eio: Any, eio_sid: str) -> int | None:
    """How many packets wait in the outgoing queue of engine.io socket ``eio_sid``; ``None`` if it is gone."""
    sock = eio.sockets.get(eio_sid)
    return None if sock is None else sock.queue.qsize()  # type: ignore[no-any-return]


def drop_queued_packets(eio: Any, eio_sid: str) -> None:
    """Empty the outgoing queue of engine.io socket ``eio_sid`` (nothing is sent of it)."""
    sock = eio.sockets.get(eio_sid)
    if sock is None:
        return
    empty = eio.get_queue_empty_exception()
    while True:
        try:
            sock.queue.get_nowait()
        except empty:
            break
        sock.queue.task_done()


def ping_deadline(eio: Any) -> float:
    """Seconds Engine.IO waits for a client's pong before it counts the client gone."""
    grace = getattr(eio, "ping_interval_grace_period", 0)
    return float(eio.ping_interval + grace + eio.ping_timeout)


# python-engineio: what an idle socket holds


def ping_on_timers(eio: Any) -> bool:
    """Under gevent, each socket's wait for its next ping is a timer, not a sleeping greenlet.

    Engine.IO pings each socket ``ping_interval`` seconds after its last pong:
    ``Socket.schedule_ping`` starts ``Socket._send_ping`` through the server's
    ``start_background_task``, and that task sleeps out the interval, then
    sends the ping unless the socket is closing. A greenlet parked in that
    sleep keeps its saved C stack, its Python frame stack and its greenlet:
    about 7 KiB per idle socket (``bench/idle_memory.py``). Here a gevent
    timer (a watcher of the event loop, about 200 bytes, kept by the loop
    while it runs) waits out the interval and then spawns a greenlet that only
    sends (:func:`_send_ping_now`, the rest of ``_send_ping``); a greenlet
    made at once and started later (``gevent.spawn_later``) would still cost
    3.5 KiB. Every other task starts as before. Returns whether it was
    installed (gevent, tested versions).
    """
    if not FAST_PATHS or eio.async_mode != "gevent":
        return False
    import gevent
    from engineio.socket import Socket

    send_ping = Socket._send_ping
    start_background_task = eio.start_background_task

    def start_task(target: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(target, "__func__", None) is send_ping and not args and not kwargs:
            timer = gevent.get_hub().loop.timer(eio.ping_interval)
            # Spawned from the loop's callback: the send may block (a disconnect handler).
            timer.start(gevent.spawn, _send_ping_now, target.__self__)
            return None  # Socket.schedule_ping ignores the task
        return start_background_task(target, *args, **kwargs)

    eio.start_background_task = start_task
    return True


def _send_ping_now(sock: Any) -> None:
    """``engineio.socket.Socket._send_ping`` once its sleep is over."""
    if not sock.closing and not sock.closed:
        sock.last_ping = time.time()
        sock.send(eio_packet.Packet(eio_packet.PING))


#: Whether python-socketio's ``Packet.reconstruct_binary`` takes the data and
#: returns it rebuilt (a classmethod in recent releases), or rebuilds ``self.data``
#: in place (an instance method taking the attachments only, in 5.14).
RECONSTRUCT_TAKES_DATA: bool = (
    "data" in inspect.signature(packet.Packet.reconstruct_binary).parameters
)


class AttachmentGate(packet.Packet):  # type: ignore[misc]
    """python-socketio's ``Packet``, asking before it keeps each binary attachment.

    python-socketio holds a binary packet until its last attachment arrives
    (``add_attachment`` appends to ``attachments`` up to ``attachment_count``,
    then ``reconstruct_binary`` puts them into ``data``). Here each arriving
    attachment is offered to :meth:`keep_attachment` first: once one is
    refused, none is kept (those held are dropped), the rest are counted and
    dropped as they come, and when the last one is in, :meth:`attachments_dropped`
    is called instead of the data being rebuilt.
    """

    #: Attachments received so far, kept or not.
    received_attachments = 0
    #: Whether an attachment was refused (then none is kept).
    dropping = False
    # Set by python-socketio; declared for the type checker.
    attachment_count: int
    attachments: list[bytes]
    data: Any

    def keep_attachment(self, attachment: bytes) -> bool:
        """Whether to keep ``attachment``; ``True`` by default."""
        return True

    def attachments_dropped(self) -> None:
        """Set the packet up once its last attachment arrived, some having been refused."""

    def add_attachment(self, attachment: bytes) -> bool:
        """Take one binary attachment; ``True`` when the packet is complete."""
        if self.received_attachments >= self.attachment_count:
            raise ValueError("Unexpected binary attachment")
        self.received_attachments += 1
        if not self.dropping and not self.keep_attachment(attachment):
            self.dropping = True
        if self.dropping:
            self.attachments = []
        else:
            self.attachments.append(attachment)
        if self.received_attachments < self.attachment_count:
            return False
        if self.dropping:
            self.attachments_dropped()
        elif RECONSTRUCT_TAKES_DATA:
            self.data = self.reconstruct_binary(self.data, self.attachments)
        else:
            self.reconstruct_binary(self.attachments)
        return True


# simple-websocket


class _GeventInput:
    """gevent's ``wsgi.input``, with the socket under it replaced for simple-websocket."""

    def __init__(self, wsgi_input: Any, sock: Any) -> None:
        self._input = wsgi_input
        # simple-websocket reads wsgi.input.raw._sock, or wsgi.input.rfile.raw._sock
        self.raw = _Raw(sock)
        self.rfile = self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._input, name)


class _Raw:
    """Where simple-websocket looks for gevent's socket: ``raw._sock``."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock


def replace_websocket_socket(environ: dict[str, Any], wrap: Callable[[Any, bool], Any]) -> bool:
    """Have simple-websocket write on ``wrap(sock, duplicated)`` rather than the connection's ``sock``.

    simple-websocket 1.x finds the connection's socket in the WSGI environ:
    ``werkzeug.socket``, ``gunicorn.socket``, or under gevent's pywsgi
    ``wsgi.input.raw._sock`` (or ``wsgi.input.rfile.raw._sock``), which it
    ``dup()``\\ s; ``duplicated`` is ``True`` in that last case, where the
    wrapper's ``dup()`` gives the socket actually written on. Eventlet's
    ``eventlet.input`` is not handled here. Returns whether a socket was found.
    """
    for key in ("werkzeug.socket", "gunicorn.socket"):
        if key in environ:
            environ[key] = wrap(environ[key], False)
            return True
    if environ.get("SERVER_SOFTWARE", "").startswith("gevent"):
        wsgi_input = environ.get("wsgi.input")
        raw = getattr(wsgi_input, "raw", None) or getattr(
            getattr(wsgi_input, "rfile", None), "raw", None
        )
        sock = getattr(raw, "_sock", None)
        if sock is not None:
            environ["wsgi.input"] = _GeventInput(wsgi_input, wrap(sock, True))
            return True
    return False


def read_websockets_inline(eio: Any) -> bool:
    """Under gevent with simple-websocket, the greenlet serving a WebSocket reads it itself.

    simple-websocket gives every connection a reader of its own (a greenlet
    under gevent) that reads the socket and hands each message to Engine.IO's
    WebSocket loop, which waits for it in the WSGI request's greenlet: two
    greenlets parked per idle socket where one does, each with its saved C
    stack and Python frame stack (about 8 KiB, ``bench/idle_memory.py``).
    Here Engine.IO's WebSocket class (``Server._async["websocket"]``, set per
    server) makes :class:`_InlineReads` connections, whose ``receive()`` runs
    simple-websocket's read step (``Base._thread``'s loop body: ``recv``,
    wsproto, ``_handle_events``) in the waiting greenlet. Writes are unchanged.
    Returns whether it was installed (gevent without gevent-websocket, tested
    versions).
    """
    if not FAST_PATHS or eio.async_mode != "gevent":
        return False
    from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI

    websocket = eio._async.get("websocket")
    if not (isinstance(websocket, type) and issubclass(websocket, SimpleWebSocketWSGI)):
        return False  # gevent-websocket serves them
    eio._async = {**eio._async, "websocket": _inline_websocket_wsgi()}
    return True


@cache
def _inline_websocket_wsgi() -> type[Any]:
    """Engine.IO's gevent WebSocket class, making :class:`_InlineReads` connections."""
    import gevent.event
    import simple_websocket
    from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
    from simple_websocket.errors import ConnectionClosed
    from wsproto.utilities import LocalProtocolError

    class NoReader:
        """Stands in for the reader thread simple-websocket would start."""

        name = "simple_websocket inline reads"

        def __init__(self, target: Any) -> None:
            pass

        def start(self) -> None:
            pass

    class InlineReads(simple_websocket.Server):  # type: ignore[misc]
        """simple-websocket's server connection, read by the greenlet that waits on it."""

        def receive(self, timeout: float | None = None) -> Any:
            while self.connected and not self.input_buffer:
                self._read_once()
            if self.input_buffer:
                return self.input_buffer.pop(0)
            raise ConnectionClosed(self.close_reason, self.close_message)

        def _read_once(self) -> None:
            # Base._thread's loop body (no pings: Engine.IO sets no ping_interval).
            try:
                data = self.sock.recv(self.receive_bytes)
                if not data:
                    raise OSError()
                self.ws.receive_data(data)
                self.connected = self._handle_events()
            except (OSError, LocalProtocolError):
                self.connected = False
            if not self.connected:
                self.sock.close()  # as Base._thread does when it ends

    class InlineWebSocketWSGI(SimpleWebSocketWSGI):  # type: ignore[misc]
        def __init__(self, handler: Any, server: Any) -> None:
            super().__init__(handler, server, thread_class=NoReader, event_class=gevent.event.Event)

        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            # SimpleWebSocketWSGI.__call__, with InlineReads for simple_websocket.Server.
            self.ws = InlineReads(environ, **self.server_args)
            answer = self.app(self)
            if self.ws.mode == "gunicorn":
                raise StopIteration()
            if self.ws.mode == "werkzeug":
                raise ConnectionError()
            return answer

    return InlineWebSocketWSGI


# python-socketio's room emits and Engine.IO's WebSocket writer (shared frames)

#: The versions the shared-frame hooks were tested against, beyond :data:`TESTED`.
SHARED_FRAMES_TESTED: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "simple-websocket": ((1, 0), (1, 2)),
}

#: Whether a room emit's WebSocket frame is built once and written to each
#: member's connection (:mod:`flask_sockpub.serving.fanout`): the versions are
#: tested ones, and the platform writes on a socket's descriptor (POSIX).
SHARED_FRAMES: bool = (
    FAST_PATHS and not untested_versions(SHARED_FRAMES_TESTED) and os.name == "posix"
)

_T = TypeVar("_T")


def intercept_room_packets(
    server: Any, send: Callable[[str, Any, Callable[[str, Any], None]], None]
) -> None:
    """Have ``send(eio_sid, eio_packet, original)`` deliver each packet of a room emit.

    python-socketio's manager encodes a room emit once into Engine.IO packets,
    then calls ``Server._send_eio_packet(eio_sid, packet)`` for each member
    socket with the same packet objects; ``original`` is that method.
    """
    original = server._send_eio_packet

    def send_eio_packet(eio_sid: str, eio_packet: Any) -> None:
        send(eio_sid, eio_packet, original)

    server._send_eio_packet = send_eio_packet


def _green_writer_queue(base: type[Any]) -> type[Any]:
    """``base`` (a green queue), knowing when the socket's writer waits on it empty.

    Green threads switch only when one blocks: nothing runs between the
    moment a waiting writer takes a packet and the moment ``get`` returns.
    """

    class GreenWriterQueue(base):  # type: ignore[valid-type,misc]
        writer_idle = False

        def get(self, block: bool = True, timeout: float | None = None) -> Any:
            if block:
                self.writer_idle = True
            try:
                return super().get(block, timeout)
            finally:
                self.writer_idle = False

        def write_if_idle(self, write: Callable[[], _T]) -> _T | None:
            if self.writer_idle and not self.qsize():
                return write()
            return None

    return GreenWriterQueue


def writer_queue_class(async_mode: str) -> type[Any] | None:
    """The outgoing queue class for Engine.IO sockets in ``async_mode``, or ``None`` where frames are not shared.

    Eventlet is left out: its WebSocket server is eventlet's own. Threading
    is left out too: with shared frames, a threading server of 1,000 sockets
    was still busy 300 s after they left, in the benchmark of 2026-12-02
    (111 s without), so it keeps the usual path until that is understood.
    """
    if async_mode == "gevent":
        from gevent.queue import JoinableQueue

        return _green_writer_queue(JoinableQueue)
    return None


def watch_websockets(
    eio: Any,
    queue_class: type[Any],
    opened: Callable[[Any, Any, dict[str, Any]], Any],
    closed: Callable[[Any], None],
) -> None:
    """Give Engine.IO server ``eio`` sockets with ``queue_class`` queues, and a look at each WebSocket.

    ``opened(engine_socket, ws, environ)`` runs as the WebSocket handler of
    Engine.IO socket ``engine_socket`` starts, with engine.io's WebSocket
    wrapper ``ws`` and the handshake environ; what it returns (when not
    ``None``) is given to the handler instead of ``ws``. ``closed(engine_socket)``
    runs when the handler ends. Engine.IO picks both classes from its async
    driver table, ``Server._async``: this server gets a copy of its own.
    """
    original = eio._async["websocket"]
    if original is None:
        return

    class WatchedWebSocket:
        def __init__(self, handler: Callable[[Any], Any], server: Any) -> None:
            self._handler = handler
            self._environ: dict[str, Any] = {}
            self._inner = original(self._run, server)

        def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            self._environ = environ
            return self._inner(environ, start_response)

        def _run(self, ws: Any) -> Any:
            engine_socket = self._handler.__self__  # type: ignore[attr-defined]
            adapted = opened(engine_socket, ws, self._environ)
            try:
                return self._handler(ws if adapted is None else adapted)
            finally:
                closed(engine_socket)

    eio._async = {**eio._async, "queue": queue_class, "websocket": WatchedWebSocket}


def takes_frames(engine_socket: Any) -> bool:
    """Whether Engine.IO socket ``engine_socket`` is on its WebSocket, upgrade done, not closing."""
    return bool(
        engine_socket.upgraded
        and not engine_socket.upgrading
        and not engine_socket.closing
        and not engine_socket.closed
    )


def engine_socket_id(engine_socket: Any) -> str:
    """The id of Engine.IO socket ``engine_socket``."""
    return engine_socket.sid  # type: ignore[no-any-return]


def outgoing_queue(engine_socket: Any) -> Any:
    """The queue Engine.IO socket ``engine_socket``'s writer takes its packets from."""
    return engine_socket.queue


def client_answering(engine_socket: Any) -> bool:
    """Engine.IO's check before each send: ``False`` (and the socket closed) if its client stopped answering pings."""
    return bool(engine_socket.check_ping_timeout())


def websocket_connection(ws: Any) -> Any:
    """The socket simple-websocket writes on under engine.io's wrapper ``ws``; ``None`` for other servers."""
    server = getattr(ws, "ws", None)  # engine.io's SimpleWebSocketWSGI.ws
    return getattr(server, "sock", None)  # simple_websocket.Base.sock


def websocket_connected(ws: Any) -> bool:
    """Whether simple-websocket still counts the WebSocket under engine.io's wrapper ``ws`` open."""
    return bool(ws.ws.connected)


# Flask-SocketIO


class PlainHandlerHook(flask_socketio.SocketIO):
    """Flask-SocketIO's ``SocketIO`` with a hook run before every plain handler.

    ``SocketIO._handle_event`` is where Flask-SocketIO pushes the request
    context around each ``@socketio.on`` handler; subclasses override
    :meth:`before_plain_handler`.
    """

    def before_plain_handler(self, sid: str, namespace: str) -> None:
        """Run before each plain handler of socket ``sid``; nothing by default."""

    def _handle_event(
        self, handler: Any, message: str, namespace: str, sid: str, *args: Any
    ) -> Any:
        self.before_plain_handler(sid, namespace)
        return super()._handle_event(handler, message, namespace, sid, *args)

    def run_plain_handler(
        self, handler: Any, message: str, namespace: str, sid: str, *args: Any
    ) -> Any:
        """Run ``handler`` the way Flask-SocketIO runs a plain handler (request context, session)."""
        return self._handle_event(handler, message, namespace, sid, *args)


def reset_server_options(socketio: flask_socketio.SocketIO) -> None:
    """Forget the options of an earlier ``init_app``: Flask-SocketIO accumulates them."""
    socketio.server_options = {}


# SQLAlchemy


def has_limit_or_offset(select: Any) -> bool:
    """Whether a ``select()`` carries ``LIMIT`` or ``OFFSET``.

    Outside the tested range the check is skipped (``False``): it only guards
    against a misused base query.
    """
    if not FAST_PATHS:
        return False
    clauses = (getattr(select, "_limit_clause", None), getattr(select, "_offset_clause", None))
    return any(clause is not None for clause in clauses)


# Flask

_Function = TypeVar("_Function", bound=Callable[..., Any])


class LateSetupBlueprint(Blueprint):
    """A ``Blueprint`` that still takes hooks and routes after it is registered.

    Flask refuses every setup method (``@bp.before_request``, ``@bp.route``,
    ``@bp.errorhandler``...) once a blueprint is registered, because
    registration copies what the blueprint holds into the app. This blueprint
    applies each later setup call to the apps it is registered on, where
    registration would have put it, as long as none of them has handled a
    request yet (Flask's own end of an app's setup); after that it refuses,
    as Flask does. Apps it is registered on later get everything, as usual.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # (app, registration options, first registration on that app, registered name)
        self._registrations: list[tuple[weakref.ref[Flask], dict[str, Any], bool, str]] = []
        super().__init__(*args, **kwargs)

    def register(self, app: Any, options: dict[str, Any]) -> None:
        first = not any(blueprint is self for blueprint in app.blueprints.values())
        super().register(app, options)
        name = f"{options.get('name_prefix', '')}.{options.get('name', self.name)}".lstrip(".")
        self._registrations.append((weakref.ref(app), dict(options), first, name))

    def registered_on(self) -> list[tuple[Flask, dict[str, Any], bool, str]]:
        """The live apps this blueprint is registered on, with how it was registered there."""
        live = []
        for ref, options, first, name in self._registrations:
            app = ref()
            if app is not None:
                live.append((app, options, first, name))
        if len(live) < len(self._registrations):
            self._registrations = [item for item in self._registrations if item[0]() is not None]
        return live

    def _check_setup_finished(self, f_name: str) -> None:
        # Replaces Flask's check (refuse once registered): refuse once an app serves.
        for app, _, _, _ in self.registered_on():
            if app._got_first_request:
                raise AssertionError(
                    f"The setup method {f_name!r} can no longer be called on the blueprint "
                    f"{self.name!r}: the app {app.name!r} it is registered on has already "
                    "handled a request. Set the blueprint up before the app serves."
                )

    def record(self, func: Callable[[Any], None]) -> None:
        super().record(func)
        # Routes, app-wide hooks, template filters: what registration would have run.
        for app, options, first, _ in self.registered_on():
            func(self.make_setup_state(app, options, first))

    def register_blueprint(self, blueprint: Any, **options: Any) -> None:
        if self.registered_on():
            raise ValueError(
                f"register {blueprint.name!r} on {self.name!r} before {self.name!r} is "
                "registered on an app: nested blueprints are registered with their parent"
            )
        super().register_blueprint(blueprint, **options)

    def _add_to_apps(self, registry: str, function: Callable[..., Any]) -> None:
        for app, _, _, name in self.registered_on():
            getattr(app, registry).setdefault(name, []).append(function)

    def before_request(self, f: _Function) -> _Function:  # type: ignore[override]
        super().before_request(f)
        self._add_to_apps("before_request_funcs", f)
        return f

    def after_request(self, f: _Function) -> _Function:  # type: ignore[override]
        super().after_request(f)
        self._add_to_apps("after_request_funcs", f)
        return f

    def teardown_request(self, f: _Function) -> _Function:  # type: ignore[override]
        super().teardown_request(f)
        self._add_to_apps("teardown_request_funcs", f)
        return f

    def context_processor(self, f: _Function) -> _Function:  # type: ignore[override]
        super().context_processor(f)
        self._add_to_apps("template_context_processors", f)
        return f

    def url_value_preprocessor(self, f: _Function) -> _Function:  # type: ignore[override]
        super().url_value_preprocessor(f)
        self._add_to_apps("url_value_preprocessors", f)
        return f

    def url_defaults(self, f: _Function) -> _Function:  # type: ignore[override]
        super().url_defaults(f)
        self._add_to_apps("url_default_functions", f)
        return f

    def register_error_handler(self, code_or_exception: Any, f: Any) -> None:
        super().register_error_handler(code_or_exception, f)
        own = self.error_handler_spec[None]
        for app, _, _, name in self.registered_on():
            # As registration merges it: a copy of the blueprint's own handlers.
            app.error_handler_spec[name] = defaultdict(
                dict, {code: dict(handlers) for code, handlers in own.items()}
            )


# SQLAlchemy, for automatic publishing


def detached_copy(model: type[Any], values: dict[str, Any]) -> Any:
    """An instance of ``model`` holding ``values``, in no session, made without calling ``__init__``.

    ``Mapper.class_manager.new_instance()`` is how SQLAlchemy itself makes an
    instance it loads; a model's ``__init__`` may require arguments or do work.
    """
    instance = sa.inspect(model).class_manager.new_instance()
    for key, value in values.items():
        set_committed_value(instance, key, value)
    return instance
