"""The session of a socket, seen by its virtual requests and its plain handlers.

Two kinds of session interface, two ways:

* Cookie sessions (Flask's default ``SecureCookieSessionInterface`` and its
  subclasses). A virtual request cannot set a cookie in the browser, so the
  socket keeps its session itself: one dict per connection, opened from the
  handshake cookie and stored in the connection's WSGI environ under
  ``"saved_session"``, the very key Flask-SocketIO uses for its plain handlers.
  Every virtual request and every plain handler on that socket share that one
  object, and it is dropped with the connection.
* Server-side sessions (Flask-Session and the like). Each virtual request opens
  and saves the session through the app's interface, as an HTTP request would,
  so changes are shared with HTTP both ways. When the interface hands a new
  session id to a socket that had none, the socket keeps that cookie for its
  later requests (it is never sent to the client).
"""
from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSessionInterface, SessionInterface, SessionMixin

#: Connection environ key of the socket's own session (Flask-SocketIO's name).
SAVED_SESSION_KEY = "saved_session"
#: Virtual request environ key carrying the session the request must use.
REQUEST_SESSION_KEY = "sockpub.session"
#: Connection environ key of the cookies a server-side session gave the socket.
COOKIE_KEY = "sockpub.cookie"


class SocketSession(dict, SessionMixin):  # type: ignore[type-arg]
    """The session a socket keeps for itself when sessions live in cookies."""


class SocketSessionInterface:
    """Wraps the app's session interface so virtual requests use their socket's session.

    Everything but ``open_session`` and ``save_session`` is delegated to the
    wrapped interface, so Flask and other extensions see no difference.
    """

    def __init__(self, wrapped: SessionInterface) -> None:
        self.wrapped = wrapped

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        session = request.environ.get(REQUEST_SESSION_KEY)
        if session is not None:
            return session  # type: ignore[no-any-return]
        return self.wrapped.open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        # A socket's own session needs no saving: it is the object itself.
        if REQUEST_SESSION_KEY not in request.environ:
            self.wrapped.save_session(app, session, response)


def session_interface(app: Flask) -> SocketSessionInterface:
    """The app's session interface, wrapped; wraps it again if the app replaced it."""
    current: Any = app.session_interface
    if isinstance(current, SocketSessionInterface):
        return current
    wrapper = SocketSessionInterface(current)
    app.session_interface = wrapper  # type: ignore[assignment]
    return wrapper


def keeps_session_on_socket(interface: SocketSessionInterface) -> bool:
    """True when sessions live in cookies, so the socket must keep its own."""
    return isinstance(interface.wrapped, SecureCookieSessionInterface)


def socket_session(app: Flask, interface: SocketSessionInterface, connection: dict[str, Any]) -> SessionMixin:
    """The session a socket keeps, opened from its handshake cookie on first use."""
    session = connection.get(SAVED_SESSION_KEY)
    if session is None:
        opened = interface.wrapped.open_session(app, app.request_class(connection))
        session = SocketSession(opened or {})
        connection[SAVED_SESSION_KEY] = session
    return session  # type: ignore[no-any-return]


def remember_session_cookie(
    app: Flask, interface: SocketSessionInterface, connection: dict[str, Any], set_cookies: list[str]
) -> None:
    """Keep a server-side session cookie the app set, for the socket's next requests."""
    name = interface.wrapped.get_cookie_name(app)
    for header in set_cookies:
        try:
            parsed = SimpleCookie(header)
            if name not in parsed:
                continue
            cookies = SimpleCookie(connection.get(COOKIE_KEY, connection.get("HTTP_COOKIE", "")))
        except CookieError:
            continue
        cookies[name] = parsed[name].value
        connection[COOKIE_KEY] = "; ".join(
            f"{key}={morsel.coded_value}" for key, morsel in cookies.items()
        )
