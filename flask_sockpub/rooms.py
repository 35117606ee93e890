"""Room names, and the seed's ``req.listen`` / ``res.broadcast``.

Socket.IO rooms share one namespace with socket ids, so every room SockPub
makes carries a prefix with a ``:``, a character socket ids never contain:

* ``sockpub:room:<name>`` for rooms named by users (``listen``/``broadcast``);
* ``sockpub:model:<identity>`` and ``sockpub:model:<identity>:<id>`` for the
  class and instance rooms of models.

A user room can therefore never equal a model room or a socket id.
"""
from __future__ import annotations

from typing import Any

from flask import current_app

from .sockets import find_current_socket, note_subscribed

USER_ROOM_PREFIX = "sockpub:room:"
MODEL_ROOM_PREFIX = "sockpub:model:"


def user_room(name: str) -> str:
    """The Socket.IO room behind the room ``name`` given to :func:`listen` and :func:`broadcast`.

    Use it to reach such a room with Flask-SocketIO directly::

        sockpub.socketio.emit("message", data, to=user_room("lobby"))
    """
    if not isinstance(name, str):
        raise TypeError(f"a room name must be a string, not {type(name).__name__}")
    return USER_ROOM_PREFIX + name


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
    socket.server.enter_room(socket.id, name, namespace=socket.namespace)
    note_subscribed(socket)
    return True


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
    current_app.extensions["sockpub"].server.emit(event, data, to=name, skip_sid=skip_sid)
