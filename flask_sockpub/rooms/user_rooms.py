"""Sails 0.9's ``req.listen`` and ``res.broadcast``: rooms named by users."""

from __future__ import annotations

from typing import Any

from ..sockets import find_current_socket
from ..state import app_state
from .membership import emit, enter
from .names import user_room


def listen(room: str) -> bool:
    """Subscribe the current socket to ``room`` (Sails 0.9's ``req.listen``).

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
    """Emit ``event`` with ``data`` to every socket in ``room`` (Sails 0.9's ``res.broadcast``).

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
    emit(app_state().server, event, data, [name], skip_sid)
