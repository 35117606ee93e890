"""Who a socket is, and what happens to its rooms when that changes.

A socket's rooms were joined under the identity its session had then (by
default Flask-Login's ``_user_id``; ``SOCKPUB_SESSION_IDENTITY`` names another
function of the session). When that identity changes (a login, a logout, the
session cleared, or Flask-Login's ``user_logged_in``/``user_logged_out``
signals), the socket leaves every room it had joined:

* in a socket request, at once; the JWR carries :data:`IDENTITY_CHANGED_HEADER`
  and the browser SDK sends its subscribing requests again, under the new
  identity;
* in a plain ``@socketio.on`` handler of the socket, at once; the socket gets
  the event :data:`IDENTITY_EVENT` (the SDK does the same);
* over HTTP with server-side sessions, every socket of this process sharing
  that session (by session cookie) leaves its rooms and gets
  :data:`IDENTITY_EVENT`. Cookie sessions are copied per socket, so HTTP
  cannot reach them: :func:`log_out_sockets` does, by identity.

With server-side sessions a change of identity in a socket request also
rotates the session id (when the session interface offers ``regenerate``, as
Flask-Session's does), against session fixation. A socket answer cannot set
the page's cookie, so the JWR carries :data:`SESSION_FOLLOW_HEADER`, a
one-time URL: the SDK posts to it and the answer sets the new cookie.

Every per-socket step here is a function a process applies to a socket it
holds (:func:`leave_every_room`, :func:`tell_identity_changed`).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, abort, current_app, has_request_context, request, session
from werkzeug.http import parse_cookie

from .rooms.authorization import forget_admissions
from .rooms.membership import leave
from .rooms.names import NAMESPACE
from .rooms.scoped import forget_socket
from .serving.origins import own_origins
from .sockets import Socket, socket_of_request
from .state import app_state, has_state

if TYPE_CHECKING:
    import socketio
    from flask.sessions import SessionMixin

logger = logging.getLogger("flask_sockpub")

#: JWR header (value ``"1"``) on the answer to a socket request during which the
#: socket's identity changed: it has left every room it was in.
IDENTITY_CHANGED_HEADER = "X-Sockpub-Identity-Changed"
#: JWR header carrying the one-time URL the page posts to, so that its cookie
#: names the session the socket request rotated to.
SESSION_FOLLOW_HEADER = "X-Sockpub-Session-Follow"
#: Event sent to a socket whose identity changed outside its own socket
#: requests (a plain handler, HTTP, :func:`log_out_sockets`).
IDENTITY_EVENT = "sockpub:identity-changed"
#: Where the one-time URLs live: ``<SOCKPUB_SESSION_FOLLOW_URL>/<token>``.
FOLLOW_ENDPOINT = "sockpub_session_follow"
#: Seconds a one-time URL stays valid.
FOLLOW_TTL = 60.0

#: Request environ key: the identity the request's session had when opened
#: (or at its last change).
OPENED_IDENTITY_KEY = "sockpub.identity"
#: Request environ key set when the identity changed during the request.
CHANGED_KEY = "sockpub.identity_changed"
#: Connection environ key: the socket's identity as last seen.
LAST_IDENTITY_KEY = "sockpub.last_identity"
#: Connection environ key: the session cookie value under which the socket is tracked.
TRACKED_SESSION_KEY = "sockpub.tracked_session"
#: Connection environ key: the ``Cookie`` header the tracked value was read from.
TRACKED_HEADER_KEY = "sockpub.tracked_cookie_header"

_lock = threading.Lock()


def session_identity(app: Flask, session: Any) -> Any:
    """The identity ``session`` stands for: ``SOCKPUB_SESSION_IDENTITY(session)``, else its ``_user_id``."""
    identity = app.config.get("SOCKPUB_SESSION_IDENTITY")
    if identity is not None:
        return identity(session)
    return session.get("_user_id") if session is not None else None


def note_opened(app: Flask, environ: dict[str, Any], session: Any) -> None:
    """Remember the identity of a request's session as it was opened."""
    environ[OPENED_IDENTITY_KEY] = session_identity(app, session)


def changed_since_opened(environ: dict[str, Any], now: Any) -> bool:
    """Whether ``now``, the identity of the request's session now, differs from the one it had when opened (or at its last change).

    ``now`` is the reference from then on.
    """
    before = environ.get(OPENED_IDENTITY_KEY, now)
    environ[OPENED_IDENTITY_KEY] = now
    return bool(before != now)


def request_socket(environ: dict[str, Any]) -> Socket | None:
    """The socket a request belongs to: a socket request's, or a plain handler's."""
    socket = socket_of_request(environ)
    if socket is not None:
        return socket
    sid = getattr(request, "sid", None) if has_request_context() else None
    if sid is None or getattr(request, "namespace", NAMESPACE) != NAMESPACE:
        return None
    return Socket(app_state().server, sid, NAMESPACE)


def identity_changed(app: Flask, environ: dict[str, Any], session_cookie: str | None) -> None:
    """The identity of the current request's session changed: its sockets leave their rooms.

    :param session_cookie: the session cookie of an HTTP request with
        server-side sessions, whose sockets are reached; ``None`` otherwise.
    """
    socket = request_socket(environ)
    if socket is not None:
        leave_every_room(socket)
        if socket_of_request(environ) is None:
            tell_identity_changed(socket)  # a plain handler: no JWR to say it
        else:
            environ[CHANGED_KEY] = True  # the JWR says it
        return
    if session_cookie is not None:
        state = app_state(app)
        for sid in list(state.sockets_by_session.get(session_cookie, ())):
            target = Socket(state.server, sid, NAMESPACE)
            leave_every_room(target)
            tell_identity_changed(target)
            connection = target.environ
            if connection is not None:  # its next request needs not say it again
                connection[LAST_IDENTITY_KEY] = environ.get(OPENED_IDENTITY_KEY)


def leave_every_room(socket: Socket) -> None:
    """Take ``socket`` (held by this process) out of every room but its own."""
    forget_socket(socket.server, socket.id)
    for room in socket.rooms:
        if room != socket.id:
            leave(socket.server, socket, room)
    connection = socket.environ
    if connection is not None:
        forget_admissions(connection)


def tell_identity_changed(socket: Socket) -> None:
    """Send ``socket`` :data:`IDENTITY_EVENT`: its page sends its subscribing requests again."""
    socket.emit(IDENTITY_EVENT, {"rooms": "left"})


def connect_login_signals() -> None:
    """Treat Flask-Login's ``user_logged_in``/``user_logged_out`` as identity changes (once per process)."""
    try:
        from flask_login import user_logged_in, user_logged_out  # type: ignore[import-untyped]
    except ImportError:  # Flask-Login is optional
        return
    user_logged_in.connect(_on_login_signal, weak=False)
    user_logged_out.connect(_on_login_signal, weak=False)


def _on_login_signal(sender: Any, **extra: Any) -> None:
    if not has_request_context() or not isinstance(sender, Flask) or not has_state(sender):
        return
    environ = request.environ
    # The new identity is the baseline from now on: rooms the view joins
    # after the login belong to the new identity and are kept.
    note_opened(sender, environ, session)
    identity_changed(sender, environ, _http_session_cookie(sender))


def _http_session_cookie(app: Flask) -> str | None:
    """The session cookie of the current HTTP request when sessions are server-side, else ``None``."""
    interface: Any = app.session_interface
    if getattr(interface, "keeps_session_on_socket", True) or request_socket(request.environ):
        return None
    return request.cookies.get(interface.get_cookie_name(app))


# Sockets by session (server-side sessions)


def track_session(app: Flask, connection: dict[str, Any], sid: str) -> None:
    """Keep socket ``sid`` findable by the session cookie its requests carry now."""
    header = connection.get("sockpub.cookie", connection.get("HTTP_COOKIE", ""))
    if TRACKED_SESSION_KEY in connection and connection.get(TRACKED_HEADER_KEY) == header:
        return  # the usual case: the same cookie as at the last request
    connection[TRACKED_HEADER_KEY] = header
    interface: Any = app.session_interface
    value = parse_cookie(header).get(interface.get_cookie_name(app)) if header else None
    previous = connection.get(TRACKED_SESSION_KEY)
    if value == previous and TRACKED_SESSION_KEY in connection:
        return
    table = app_state(app).sockets_by_session
    with _lock:
        if previous is not None:
            _discard(table, previous, sid)
        if value is not None:
            table.setdefault(value, set()).add(sid)
        connection[TRACKED_SESSION_KEY] = value


def untrack_session(app: Flask, connection: dict[str, Any], sid: str) -> None:
    """Forget socket ``sid`` (it disconnected)."""
    previous = connection.get(TRACKED_SESSION_KEY)
    if previous is not None and has_state(app):
        with _lock:
            _discard(app_state(app).sockets_by_session, previous, sid)


def _discard(table: dict[str, set[str]], key: str, sid: str) -> None:
    sids = table.get(key)
    if sids is not None:
        sids.discard(sid)
        if not sids:
            del table[key]


# Logging sockets out by identity (cookie sessions)


def log_out_sockets(app: Flask, identity: Any) -> list[Socket]:
    """Log out every socket of this process whose session identity is ``identity``.

    Each leaves every room and gets :data:`IDENTITY_EVENT`; with cookie
    sessions its own copy of the session is cleared, so its next requests are
    anonymous. With server-side sessions the session itself is the app's
    (a logout over HTTP already reached its sockets); only the rooms go.
    """
    state = app_state(app)
    server = state.server
    interface: Any = app.session_interface
    keeps_own = getattr(interface, "keeps_session_on_socket", False)
    gone = []
    for sid in _connected_sids(server):
        connection = server.get_environ(sid)
        if connection is None:
            continue
        if keeps_own:
            socket_session = interface.open_socket_session(app, connection)
            if session_identity(app, socket_session) != identity:
                continue
            socket_session.clear()
        elif connection.get(LAST_IDENTITY_KEY) != identity:
            continue
        connection[LAST_IDENTITY_KEY] = None
        socket = Socket(server, sid, NAMESPACE)
        leave_every_room(socket)
        tell_identity_changed(socket)
        gone.append(socket)
    return gone


def _connected_sids(server: socketio.Server) -> Iterable[str]:
    return [sid for sid, _ in server.manager.get_participants(NAMESPACE, None)]


# Following a rotated session over HTTP


def follow_url(app: Flask, rotated_from: str | None, set_cookie: str) -> str | None:
    """A one-time URL whose POST answers with ``set_cookie`` (the rotated session's cookie).

    ``None`` when ``SOCKPUB_SESSION_FOLLOW_URL`` is ``None``: the app offers none.

    Only a request carrying ``rotated_from`` (the page's session cookie,
    which the socket's request carried), from the server's own origin, gets it.
    """
    base = app.config.get("SOCKPUB_SESSION_FOLLOW_URL")
    if not base:
        return None
    follows = app_state(app).session_follows
    now = time.monotonic()
    token = secrets.token_urlsafe(24)
    with _lock:
        for key, (expires, _, _) in list(follows.items()):
            if expires < now:
                follows.pop(key, None)
        follows[token] = (now + FOLLOW_TTL, rotated_from, set_cookie)
    return f"{base.rstrip('/')}/{token}"


def register_follow_route(app: Flask) -> None:
    """Serve the one-time URLs of :func:`follow_url`, unless ``SOCKPUB_SESSION_FOLLOW_URL`` is ``None``."""
    url = app.config["SOCKPUB_SESSION_FOLLOW_URL"]
    if url:
        app.add_url_rule(
            f"{url.rstrip('/')}/<token>",
            endpoint=FOLLOW_ENDPOINT,
            view_func=follow_session,
            methods=["POST"],
        )


def follow_session(token: str) -> Response:
    """``POST <SOCKPUB_SESSION_FOLLOW_URL>/<token>``: set the page's cookie to the rotated session."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    origin = request.headers.get("Origin")
    if origin is not None and origin not in own_origins(request.environ):
        abort(403, "a session can only be followed from the server's own pages")
    follows = app_state(app).session_follows
    found = follows.get(token)
    if found is None or found[0] < time.monotonic():
        abort(404, "unknown or expired session token")
    _, rotated_from, set_cookie = found
    name = app.session_interface.get_cookie_name(app)
    if request.cookies.get(name) != rotated_from:
        abort(403, "this session token belongs to another session")
    with _lock:
        if follows.pop(token, None) is None:
            abort(404, "unknown or expired session token")  # followed meanwhile
    response = Response(status=204)
    response.headers.add("Set-Cookie", set_cookie)
    response.headers["Cache-Control"] = "no-store"
    return response


def session_cookie_header(app: Flask, headers: list[tuple[str, str]]) -> str | None:
    """The ``Set-Cookie`` value among ``headers`` that sets the session cookie, if any."""
    name = app.session_interface.get_cookie_name(app)
    for key, value in headers:
        if key.lower() == "set-cookie" and value.partition("=")[0].strip() == name:
            return value
    return None


def rotate(interface: Any, session: SessionMixin, environ: dict[str, Any], app: Flask) -> None:
    """Give a logged-in server-side session a new id (against fixation), when the interface can.

    The page follows: see :func:`rotated_session`.
    """
    regenerate = getattr(interface, "regenerate", None)
    if regenerate is None or not session:
        return
    regenerate(session)


def rotated_session(
    app: Flask, environ: dict[str, Any], connection: dict[str, Any], headers: list[tuple[str, str]]
) -> tuple[str, str] | None:
    """``(the cookie it replaced, the new Set-Cookie)`` when a socket request moved the page's session to a new id.

    The page shares the socket's session when its handshake carried one; a
    request that answers with another session id than it carried (SockPub's
    rotation at a login, or the app's own ``regenerate``) moved it, and the
    page must follow (:func:`follow_url`). A socket opened without a session
    cookie has a session of its own, which the page never follows.
    """
    name = app.session_interface.get_cookie_name(app)
    handshake = connection.get("HTTP_COOKIE")
    if not handshake or parse_cookie(handshake).get(name) is None:
        return None
    set_cookie = session_cookie_header(app, headers)
    if set_cookie is None:
        return None
    pair, _, attributes = set_cookie.partition(";")
    value = pair.partition("=")[2].strip()
    if not value or "max-age=0" in attributes.replace(" ", "").lower():
        return None  # deleted: the page's session is gone too, nothing to follow
    carried = parse_cookie(environ.get("HTTP_COOKIE", "")).get(name)
    if carried is None or carried == value:
        return None
    return carried, set_cookie
