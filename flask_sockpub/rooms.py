"""Room names, room membership, and the seed's ``req.listen`` / ``res.broadcast``.

Socket.IO rooms share one namespace with socket ids, so every room SockPub
makes carries a prefix with a ``:``, a character socket ids never contain:

* ``sockpub:room:<name>`` for rooms named by users (``listen``/``broadcast``);
* ``sockpub:model:<identity>`` (the class room) and
  ``sockpub:model:<identity>:<id>`` (an instance room) for models. An identity
  never contains ``:``, so the two kinds cannot be mistaken for each other.

A user room can therefore never equal a model room or a socket id.

Membership lives in python-socketio's own room table (``server.manager.rooms``),
never in a structure of ours: python-socketio drops a socket from every room
when it disconnects, so nothing about a socket outlives it. The functions below
that touch the table directly do so to move whole rooms at once (``introduce``,
``publish_destroy``) instead of one socket at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bidict import bidict
from flask import current_app
from socketio.pubsub_manager import PubSubManager

from .sockets import Socket, find_current_socket, note_subscribed

if TYPE_CHECKING:
    import socketio

USER_ROOM_PREFIX = "sockpub:room:"
MODEL_ROOM_PREFIX = "sockpub:model:"
#: The Socket.IO namespace model rooms live in, and messages are sent on.
NAMESPACE = "/"


def user_room(name: str) -> str:
    """The Socket.IO room behind the room ``name`` given to :func:`listen` and :func:`broadcast`.

    Use it to reach such a room with Flask-SocketIO directly::

        sockpub.socketio.emit("message", data, to=user_room("lobby"))
    """
    if not isinstance(name, str):
        raise TypeError(f"a room name must be a string, not {type(name).__name__}")
    return USER_ROOM_PREFIX + name


def model_room(identity: str, key: str | None = None) -> str:
    """The class room of model ``identity``, or the instance room of ``key`` (an id as text)."""
    if key is None:
        return MODEL_ROOM_PREFIX + identity
    return f"{MODEL_ROOM_PREFIX}{identity}:{key}"


def listen(room: str) -> bool:
    """Subscribe the current socket to ``room`` (the seed's ``req.listen``).

    Returns ``False`` and does nothing during an HTTP request, so one view can
    serve both::

        @app.get("/chat/<room>/join")
        def join(room):
            listen(room)
            return {"joined": room}
    """
    name = user_room(room)
    socket = find_current_socket()
    if socket is None:
        return False
    return enter(socket.server, socket, name)


def broadcast(room: str, data: Any, event: str = "message", include_self: bool = True) -> None:
    """Emit ``event`` with ``data`` to every socket in ``room`` (the seed's ``res.broadcast``).

    Works in socket requests, HTTP requests, and anywhere an app context is
    pushed. The socket making the current request hears its own broadcast
    unless ``include_self=False`` (Flask-SocketIO's convention; Sails 0.9
    always left the sender out).
    """
    name = user_room(room)
    skip_sid = None
    if not include_self:
        socket = find_current_socket()
        skip_sid = socket.id if socket is not None else None
    emit(current_app.extensions["sockpub"].server, event, data, [name], skip_sid)


def emit(
    server: socketio.Server,
    event: str,
    data: Any,
    rooms: Sequence[str],
    skip_sid: str | None = None,
) -> None:
    """Send ``event`` once to every socket in any of ``rooms``, but ``skip_sid``.

    One emit for all the rooms: python-socketio merges their members, so a
    socket in several of them gets the message once, and encodes the packet
    once for everybody.
    """
    if not rooms:
        return  # python-socketio reads an empty room list as "everybody"
    server.emit(event, data, to=list(rooms), skip_sid=skip_sid, namespace=NAMESPACE)


def enter(server: socketio.Server, socket: Socket, room: str) -> bool:
    """Put ``socket`` in ``room``; ``False`` when it is not connected (here, or at all)."""
    manager = server.manager
    if not is_present(manager, socket.id, socket.namespace):
        if isinstance(manager, PubSubManager):
            # Perhaps held by another process: the queue takes it there.
            server.enter_room(socket.id, room, namespace=socket.namespace)
            return True
        return False
    server.enter_room(socket.id, room, namespace=socket.namespace)
    if not is_present(manager, socket.id, socket.namespace):
        # It disconnected meanwhile (threading): take it out again, or the
        # room would keep a socket python-socketio has already cleaned up.
        manager.basic_leave_room(socket.id, socket.namespace, room)
        return False
    # The answer to the request that joined its own socket says so (a JWR
    # header), which the browser SDK uses to resubscribe after a reconnect.
    note_subscribed(socket)
    return True


def leave(server: socketio.Server, socket: Socket, room: str) -> bool:
    """Take ``socket`` out of ``room``; ``False`` when it is not connected."""
    manager = server.manager
    elsewhere = not is_present(manager, socket.id, socket.namespace)
    if elsewhere and not isinstance(manager, PubSubManager):
        return False
    server.leave_room(socket.id, room, namespace=socket.namespace)
    return True


def is_present(manager: Any, sid: str, namespace: str) -> bool:
    """Whether socket ``sid`` is connected to this process (or connecting: in a connect handler)."""
    return bool(manager.is_connected(sid, namespace) or manager.is_pre_connected(sid, namespace))


def members(server: socketio.Server, room: str) -> list[str]:
    """The ids of the sockets of this process in ``room``."""
    return [sid for sid, _ in server.manager.get_participants(NAMESPACE, room)]


def copy_members(
    server: socketio.Server, source: str, target: str, skip_sid: str | None = None
) -> None:
    """Put every socket of room ``source`` (but ``skip_sid``) in room ``target`` too.

    The whole room is merged into the other in one table update rather than
    socket by socket, which is what makes ``publish_create`` cheap for a
    crowded class room.
    """
    # With a message queue this covers the sockets of this process; the
    # sockets of other processes need the queue (the many-processes issue).
    manager = server.manager
    table = manager.rooms.get(NAMESPACE)
    if table is None:
        return
    source_members = table.get(source)
    if not source_members:
        return
    added = source_members.copy()
    if skip_sid is not None:
        added.pop(skip_sid, None)
    if not added:
        return
    # setdefault: two threads creating the room at once must not drop each other's members.
    table.setdefault(target, bidict()).update(added)
    # A socket that disconnected while being copied (threading) must not stay
    # behind in a room python-socketio has already cleaned it out of.
    connected = table.get(None, {})
    leaving = manager.pending_disconnect.get(NAMESPACE, ())
    stale = (added.keys() - connected.keys()) | (added.keys() & set(leaving))
    for sid in stale:
        manager.basic_leave_room(sid, NAMESPACE, target)


def empty_room(server: socketio.Server, room: str, keep_sid: str | None = None) -> None:
    """Take every socket out of ``room``, but ``keep_sid`` if it is a member."""
    manager = server.manager
    table = manager.rooms.get(NAMESPACE)
    keep = None
    if table is not None and keep_sid is not None:
        keep = (table.get(room) or {}).get(keep_sid)
    if isinstance(manager, PubSubManager):
        server.close_room(room, namespace=NAMESPACE)  # on every process, through the queue
    elif table is not None:
        table.pop(room, None)  # the whole room at once, not socket by socket
    if keep is not None and keep_sid is not None:
        enter(server, Socket(server, keep_sid, NAMESPACE), room)
