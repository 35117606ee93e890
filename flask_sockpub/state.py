"""What SockPub keeps per app, and the one door to it: :func:`app_state`.

This module imports nothing else of the package, so any module may import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, has_app_context

if TYPE_CHECKING:
    from socketio import Server

#: The key of SockPub's state in ``app.extensions``.
EXTENSION_KEY = "sockpub"


@dataclass
class SockPubState:
    """What SockPub keeps per app, in ``app.extensions["sockpub"]``."""

    #: The :class:`~flask_sockpub.SockPub` that set the app up.
    sockpub: Any
    #: Its ``flask_socketio.SocketIO``.
    socketio: Any
    #: The python-socketio server behind ``socketio``.
    server: Server
    max_payload: int
    max_url_length: int
    event_style: str
    #: The ``ProtectedHeaders`` of ``SOCKPUB_PROTECTED_HEADERS`` (typed ``Any``:
    #: this module imports nothing of the package).
    protected_headers: Any
    #: Room operations as this process reaches them (a ``flask_sockpub.cluster.Rooms``):
    #: its own sockets, and with a message queue every process's.
    rooms: Any = None
    #: The limits per socket and per client address (a ``flask_sockpub.limits.Limits``).
    limits: Any = None
    #: Server-side sessions: session cookie value -> ids of this process's
    #: sockets whose requests carry it (a logout over HTTP reaches them).
    sockets_by_session: dict[str, set[str]] = field(default_factory=dict)
    #: One-time URLs following a rotated session: token -> (expiry on the
    #: monotonic clock, the page's session cookie, the new ``Set-Cookie``).
    session_follows: dict[str, tuple[float, str | None, str]] = field(default_factory=dict)
    #: URL prefixes of the CRUD blueprints: routing errors under them answer JSON over HTTP too.
    json_error_prefixes: list[str] = field(default_factory=list)


def app_state(app: Flask | None = None) -> SockPubState:
    """SockPub's state of ``app`` (default: the current app).

    :raises RuntimeError: SockPub is not set up for that app, or there is no
        app context.
    """
    if app is None:
        if not has_app_context():
            raise RuntimeError(
                "working outside of application context: SockPub's functions need one "
                "(a request, or app.app_context())"
            )
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions.get(EXTENSION_KEY)
    if state is None:
        raise RuntimeError(f"SockPub is not set up for the app {app.name!r}: call init_app")
    return state  # type: ignore[no-any-return]


def has_state(app: Flask) -> bool:
    """Whether SockPub is set up for ``app``."""
    return EXTENSION_KEY in app.extensions


def set_state(app: Flask, state: SockPubState) -> None:
    """Keep ``state`` for ``app``; :func:`app_state` finds it from now on."""
    app.extensions[EXTENSION_KEY] = state
