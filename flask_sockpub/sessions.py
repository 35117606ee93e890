"""The session of a socket, seen by its virtual requests and its plain handlers.

A socket's session starts as the session of its handshake cookie (a fresh one
when the handshake carried none). What happens next depends on where the app's
session interface keeps sessions:

* Cookie sessions (Flask's default ``SecureCookieSessionInterface`` and its
  subclasses). A virtual request cannot set a cookie in the browser, so the
  socket keeps its session itself: one dict per connection, opened from the
  handshake cookie and stored in the connection's WSGI environ under
  ``"saved_session"``, the key Flask-SocketIO uses for its plain handlers.
  Every virtual request and every plain handler on that socket share that one
  object (changes are kept; two requests writing one key: the last writer
  wins), and it is dropped with the connection. HTTP never sees it.
* Any other interface (server-side sessions: Flask-Session and the like). Each
  virtual request, and each plain handler, opens and saves the session through
  the app's interface, as an HTTP request would, so changes are shared with
  HTTP both ways. When the interface sets a new session cookie (a socket that
  had none gets a new session), the socket keeps that cookie for its later
  requests and plain handlers; it is never sent to the client.

The app's interface is wrapped by :class:`SocketSessionInterface`, which tells
socket requests from HTTP requests and delegates everything else; an app that
replaces ``app.session_interface`` after ``init_app`` (Flask-Session's
``Session(app)``) is wrapped again at the next socket event.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface, SessionInterface, SessionMixin

from .identity import (
    CHANGED_KEY,
    LAST_IDENTITY_KEY,
    OPENED_IDENTITY_KEY,
    changed_since_opened,
    identity_changed,
    note_opened,
    rotate,
    session_identity,
    track_session,
)
from .sockets import CONNECTION_KEY, connection_of_request, is_socket_request, socket_of_request

#: Connection environ key of the socket's own session (Flask-SocketIO's name).
SAVED_SESSION_KEY = "saved_session"
#: Virtual request environ key carrying the session the request must use.
REQUEST_SESSION_KEY = "sockpub.session"
#: Connection environ key of the ``Cookie`` header the socket's requests carry
#: once a session interface has set a cookie for the socket.
COOKIE_KEY = "sockpub.cookie"


class SocketSession(dict, SessionMixin):  # type: ignore[type-arg]
    """The session a socket keeps for itself when sessions live in cookies."""


class SocketSessionInterface:
    """Wraps the app's session interface so socket requests use their socket's session.

    Everything but ``open_session`` and ``save_session`` is delegated to the
    wrapped interface, and HTTP requests go straight through to it, so Flask
    and other extensions see no difference. Both also watch the identity of
    the session (:mod:`flask_sockpub.identity`): when it changes, the sockets
    of that session leave their rooms.
    """

    def __init__(self, wrapped: SessionInterface) -> None:
        self.wrapped = wrapped
        #: True when sessions live in cookies, so each socket keeps its own.
        self.keeps_session_on_socket = isinstance(wrapped, SecureCookieSessionInterface)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)

    def is_null_session(self, obj: object) -> bool:
        # Asked by Flask at every request: delegated without going through __getattr__.
        return self.wrapped.is_null_session(obj)

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        environ = request.environ
        session = environ.get(REQUEST_SESSION_KEY)
        if session is None:
            if CONNECTION_KEY in environ:
                session = self.open_socket_session(app, environ)
            else:
                session = self.wrapped.open_session(app, request)
        note_opened(app, environ, session)
        connection = _connection_of(environ)
        if connection is not None and LAST_IDENTITY_KEY in connection:
            # The session changed elsewhere since the socket's last request (a
            # logout over HTTP, perhaps in another process): the rooms go now,
            # before the view joins any under the new identity. A plain
            # handler's socket is only known later: save_session sees it.
            if connection[LAST_IDENTITY_KEY] != environ[OPENED_IDENTITY_KEY]:
                if socket_of_request(environ) is not None:
                    identity_changed(app, environ, None)
                else:
                    environ[OPENED_IDENTITY_KEY] = connection[LAST_IDENTITY_KEY]
        return session  # type: ignore[no-any-return]

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        environ = request.environ if has_request_context() else {}
        identity = session_identity(app, session)
        changed = changed_since_opened(environ, identity)
        socket_side = (
            REQUEST_SESSION_KEY in environ
            or CONNECTION_KEY in environ
            or is_socket_request(environ)
        )
        if changed:
            cookie = None
            if not socket_side and not self.keeps_session_on_socket:
                cookie = request.cookies.get(self.wrapped.get_cookie_name(app))
            identity_changed(app, environ, cookie)
        if socket_side:
            connection = _connection_of(environ)
            if connection is not None:
                connection[LAST_IDENTITY_KEY] = identity
        if REQUEST_SESSION_KEY in environ:
            return  # the socket's own session needs no saving: it is the object itself
        if is_socket_request(environ) and environ.get(CHANGED_KEY):
            rotate(self.wrapped, session, environ, app)  # against fixation
        if CONNECTION_KEY in environ:
            if not self.keeps_session_on_socket:
                self.wrapped.save_session(app, session, response)
                remember_session_cookie(app, self, environ, response.headers.getlist("Set-Cookie"))
                sid = getattr(request, "sid", None)
                if sid is not None:
                    track_session(app, environ, sid)
            return
        self.wrapped.save_session(app, session, response)

    def open_socket_session(self, app: Flask, connection: dict[str, Any]) -> SessionMixin | None:
        """The session of the socket whose handshake environ is ``connection``."""
        if self.keeps_session_on_socket:
            return socket_session(app, self, connection)
        cookie = connection.get(COOKIE_KEY)
        environ = connection if cookie is None else {**connection, "HTTP_COOKIE": cookie}
        return self.wrapped.open_session(app, app.request_class(environ))


def _connection_of(environ: dict[str, Any]) -> dict[str, Any] | None:
    """The handshake environ of the socket a request (socket request or plain handler) belongs to."""
    if CONNECTION_KEY in environ:
        return environ
    return connection_of_request(environ)


def session_interface(app: Flask) -> SocketSessionInterface:
    """The app's session interface, wrapped; wraps it again if the app replaced it."""
    current: Any = app.session_interface
    if isinstance(current, SocketSessionInterface):
        return current
    wrapper = SocketSessionInterface(current)
    app.session_interface = wrapper  # type: ignore[assignment]
    return wrapper


def socket_session(
    app: Flask, interface: SocketSessionInterface, connection: dict[str, Any]
) -> SessionMixin:
    """The session a socket keeps, opened from its handshake cookie on first use."""
    session = connection.get(SAVED_SESSION_KEY)
    if session is None:
        opened = interface.wrapped.open_session(app, app.request_class(connection))
        # setdefault: two first requests racing on one socket share one session.
        session = connection.setdefault(SAVED_SESSION_KEY, SocketSession(opened or {}))
    return session  # type: ignore[no-any-return]


def use_socket_session(
    app: Flask, connection: dict[str, Any], environ: dict[str, Any]
) -> SocketSessionInterface:
    """Point the environ of a virtual request at its socket's session."""
    interface = session_interface(app)
    if interface.keeps_session_on_socket:
        environ[REQUEST_SESSION_KEY] = socket_session(app, interface, connection)
    elif COOKIE_KEY in connection:
        environ["HTTP_COOKIE"] = connection[COOKIE_KEY]
    return interface


def keep_session_cookie(
    app: Flask,
    interface: SocketSessionInterface,
    connection: dict[str, Any],
    headers: list[tuple[str, str]],
) -> None:
    """After a virtual request, keep the session cookie it set for the socket's later requests."""
    if not interface.keeps_session_on_socket:
        set_cookies = [value for name, value in headers if name.lower() == "set-cookie"]
        if set_cookies:
            remember_session_cookie(app, interface, connection, set_cookies)


def mark_connection(app: Flask, connection: dict[str, Any]) -> None:
    """Let the plain Socket.IO handlers of a socket open the socket's session.

    Flask-SocketIO pushes a request context on the handshake environ around
    each plain handler; the mark tells :class:`SocketSessionInterface` whose
    session to open there.
    """
    connection[CONNECTION_KEY] = True
    session_interface(app)


def remember_session_cookie(
    app: Flask,
    interface: SocketSessionInterface,
    connection: dict[str, Any],
    set_cookies: list[str],
) -> None:
    """Keep a session cookie the app set (or deleted) for the socket's next requests."""
    name = interface.wrapped.get_cookie_name(app)
    for header in set_cookies:
        pair, _, attributes = header.partition(";")
        key, equals, value = pair.partition("=")
        if not equals or key.strip() != name:
            continue
        value = value.strip()
        deleted = not value or "max-age=0" in attributes.replace(" ", "").lower()
        current = connection.get(COOKIE_KEY, connection.get("HTTP_COOKIE", ""))
        connection[COOKIE_KEY] = with_cookie(current, name, None if deleted else value)


def with_cookie(cookie_header: str, name: str, value: str | None) -> str:
    """A ``Cookie`` header with cookie ``name`` set to ``value`` (removed for ``None``)."""
    pairs = [pair.strip() for pair in cookie_header.split(";")]
    kept = [pair for pair in pairs if pair and pair.partition("=")[0].strip() != name]
    if value is not None:
        kept.append(f"{name}={value}")
    return "; ".join(kept)
