"""Room membership: sockets entering and leaving rooms, and sending to rooms.

Membership lives in python-socketio's own room table, never in a structure of
ours: python-socketio drops a socket from every room when it disconnects, so
nothing about a socket outlives it. Moving whole rooms at once (``introduce``,
``publish_destroy``) goes through :mod:`flask_sockpub.internals`.

Everything here acts on the sockets of this process only; with a message
queue, :mod:`flask_sockpub.cluster` sends each operation to every process,
which applies it here to the sockets it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import internals
from ..sockets import Socket, note_subscribed
from .names import NAMESPACE

if TYPE_CHECKING:
    import socketio


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


def emit_here(
    server: socketio.Server,
    event: str,
    data: Any,
    rooms: Sequence[str],
    skip_sid: str | list[str] | None = None,
) -> None:
    """Send ``event`` once to every socket of this process in any of ``rooms``, never onto the queue.

    What a process applies of an operation every process applies on its own
    sockets (scoped publishing): with a message queue, a plain emit would go
    to every process again. ``ignore_queue`` is python-socketio's public flag
    for this; without a queue it changes nothing.
    """
    if not rooms:
        return
    server.emit(
        event, data, to=list(rooms), skip_sid=skip_sid, namespace=NAMESPACE, ignore_queue=True
    )


def enter(server: socketio.Server, socket: Socket, room: str) -> bool:
    """Put ``socket`` in ``room``; ``False`` when it is not connected to this process.

    This is where a socket of this process gains a room, whichever process
    asked (a subscribe here, or one that came through the queue): the place
    for checks made per socket, where its session lives.
    """
    manager = server.manager
    if not is_present(manager, socket.id, socket.namespace):
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
    """Take ``socket`` out of ``room``; ``False`` when it is not connected to this process."""
    if not is_present(server.manager, socket.id, socket.namespace):
        return False
    server.leave_room(socket.id, room, namespace=socket.namespace)
    return True


def is_present(manager: Any, sid: str, namespace: str) -> bool:
    """Whether socket ``sid`` is connected to this process (or connecting: in a connect handler)."""
    return bool(manager.is_connected(sid, namespace) or manager.is_pre_connected(sid, namespace))


def members(server: socketio.Server, room: str) -> list[str]:
    """The ids of the sockets of this process in ``room``."""
    return list(internals.room_member_ids(server.manager, NAMESPACE, room))


def room_sizes(server: socketio.Server) -> dict[str, int]:
    """Each named room of this process, and how many of its sockets are in it.

    Leaves out the room every socket has of its own (named by its id) and
    python-socketio's room of all connected sockets.
    """
    table = internals.room_table(server.manager, NAMESPACE) or {}
    sizes = {}
    for room, sids in list(table.items()):
        if room is not None and room not in sids and sids:
            sizes[room] = len(sids)
    return sizes


def copy_members(
    server: socketio.Server, source: str, target: str, skip_sid: str | None = None
) -> None:
    """Put every socket of room ``source`` (but ``skip_sid``) in room ``target`` too.

    The whole room is merged into the other in one table update rather than
    socket by socket, which is what makes ``publish_create`` cheap for a
    crowded class room. It covers the sockets of this process; when sockets
    need checking one by one before they join (see :func:`enter`), this is
    where the room is walked instead.
    """
    internals.merge_room(server.manager, NAMESPACE, source, target, skip_sid)


def empty_room(server: socketio.Server, room: str, keep_sid: str | None = None) -> None:
    """Take every socket of this process out of ``room``, but ``keep_sid`` if it is a member."""
    manager = server.manager
    keep = keep_sid is not None and internals.in_room(manager, NAMESPACE, keep_sid, room)
    internals.drop_room(manager, NAMESPACE, room)  # the whole room at once
    if keep and keep_sid is not None:
        enter(server, Socket(server, keep_sid, NAMESPACE), room)
