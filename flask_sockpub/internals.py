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
* SQLAlchemy's ``Select._limit_clause`` / ``_offset_clause``
  (:func:`has_limit_or_offset`), which have no public accessor.

At import, the installed versions are compared with :data:`TESTED`, the ranges
this module was written and tested against. Outside them, :data:`FAST_PATHS` is
False and every function takes the public-API path (slower, still correct), and
one log line says why. ``tests/test_internals.py`` fails loudly when an upgrade
changes what this module relies on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import flask_socketio

logger = logging.getLogger("flask_sockpub")

#: Distribution -> (lowest tested version, first version not tested), as
#: release tuples. Raise the upper bounds after the internals tests pass on the
#: new release.
TESTED: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "python-socketio": ((5, 14), (5, 19)),
    "python-engineio": ((4, 12), (4, 16)),
    "Flask-SocketIO": ((5, 6, 1), (5, 8)),
    "SQLAlchemy": ((2, 0, 16), (2, 2)),
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
