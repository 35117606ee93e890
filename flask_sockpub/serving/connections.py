"""The life of a connection: connect and disconnect handlers, and events that are not requests."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from flask import Flask
from socketio.exceptions import ConnectionRefusedError

from ..identity import track_session, untrack_session
from ..internals import PlainHandlerHook
from ..rooms.scoped import forget_socket
from ..sessions import mark_connection, session_interface
from ..sockets import keep_auth
from ..state import app_state
from ..virtual import answer_malformed, answer_unknown, replay, replay_message, replay_unacked
from ..wire.packets import INTERNAL_PREFIX, MALFORMED_EVENT, UNACKED_EVENT
from ..wire.socket_request import MESSAGE_EVENT, METHODS, MalformedPayload, is_legacy

if TYPE_CHECKING:
    from socketio import Server

logger = logging.getLogger("flask_sockpub")


#: Events SockPub serves on the default namespace: no plain handler may take them.
RESERVED_EVENTS = frozenset({*METHODS, MALFORMED_EVENT, UNACKED_EVENT})


class SocketIO(PlainHandlerHook):
    """Flask-SocketIO's ``SocketIO``, sharing the default namespace with SockPub in any order.

    python-socketio keeps one handler per event, and SockPub needs its own for
    ``connect`` (to keep the ``auth`` payload) and for every event (``"*"``,
    to answer socket requests). So, on the default namespace ``/``:

    * handlers the app registers for ``connect`` / ``disconnect`` are kept in
      a list and run after SockPub's, in registration order;
    * a handler the app registers for ``"*"`` gets every event SockPub does
      not serve;
    * registering a handler for an event SockPub serves (the request verbs
      ``get``, ``post``, ... in :data:`RESERVED_EVENTS`), or for a name
      starting with ``sockpub:`` (which clients may not send), is an error.

    Whether the app registers before or after ``init_app`` makes no
    difference. Plain handlers run with Flask-SocketIO's request context, as usual.
    """

    def __init__(self, app: Flask | None = None, **options: Any) -> None:
        self.connect_handlers: list[Callable[..., Any]] = []
        self.disconnect_handlers: list[Callable[..., Any]] = []
        #: The app's ``"*"`` handler on ``/``, called as ``(event, sid, *args)``.
        self.catch_all: Callable[..., Any] | None = None
        #: Socket requests being answered in this process now (a graceful
        #: shutdown waits for them before it closes the sockets).
        self.requests_in_flight = 0
        super().__init__(app, **options)

    def on(
        self, message: str, namespace: str | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        if namespace not in (None, "/"):
            return super().on(message, namespace)  # type: ignore[no-any-return]
        refuse_reserved_event(message)
        if message == "*":

            def register_catch_all(handler: Callable[..., Any]) -> Callable[..., Any]:
                def catch_all(event: str, sid: str, *args: Any) -> Any:
                    # As Flask-SocketIO calls a "*" handler: the event first.
                    return self.run_plain_handler(handler, "*", "/", sid, event, *args)

                self.catch_all = catch_all
                return handler

            return register_catch_all
        if message not in ("connect", "disconnect"):
            return super().on(message, namespace)  # type: ignore[no-any-return]
        handlers = self.connect_handlers if message == "connect" else self.disconnect_handlers

        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            handlers.append(handler)
            return handler

        return register

    def on_namespace(self, namespace_handler: Any) -> None:
        """Register a class-based namespace; on ``/`` it may not handle the request verbs."""
        if getattr(namespace_handler, "namespace", None) == "/":
            for event in sorted(RESERVED_EVENTS):
                if hasattr(namespace_handler, f"on_{event}"):
                    refuse_reserved_event(event)
        super().on_namespace(namespace_handler)

    def before_plain_handler(self, sid: str, namespace: str) -> None:
        """Mark the handshake environ so SockPub's session interface opens the socket's session.

        Every plain handler runs in a request context Flask-SocketIO pushes on
        that environ.
        """
        environ = self.server.get_environ(sid, namespace=namespace)
        if environ:
            mark_connection(environ["flask.app"], environ)

    def connected(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool | None:
        """python-socketio's connect handler: keep ``auth``, then run the app's handlers."""
        if isinstance(auth, MalformedPayload):
            raise ConnectionRefusedError(auth.reason)
        if auth is None:
            scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                auth = {"token": token.strip()}
        keep_auth(environ, auth)
        limits = app_state(environ["flask.app"]).limits
        refusal = limits.admit_address(environ)
        if refusal is not None:
            limits.log_refusal(environ, "%s <connect> refused %s", sid, refusal)
            raise ConnectionRefusedError(refusal)
        answer = None
        accepted = False
        try:
            for handler in self.connect_handlers:
                if self.run_plain_handler(handler, "connect", "/", sid, environ, auth) is False:
                    return False
            namespace = self.server.namespace_handlers.get("/")
            if namespace is not None:
                answer = namespace.trigger_event("connect", sid, environ, auth)
            accepted = answer is not False
        except ConnectionRefusedError:
            raise
        except Exception:
            logger.exception("a connect handler failed; socket %s refused", sid)
            raise ConnectionRefusedError("internal server error") from None
        finally:
            if not accepted:  # refused: the socket does not count under its address
                limits.release_address(environ)
        if answer is not False:
            # Findable by its session from now on (a logout over HTTP reaches it).
            app = environ["flask.app"]
            if not session_interface(app).keeps_session_on_socket:
                track_session(app, environ, sid)
        return answer  # type: ignore[no-any-return]

    def disconnected(self, sid: str, reason: str | None = None) -> None:
        """python-socketio's disconnect handler: run the app's handlers.

        Each handler runs even when an earlier one fails: python-socketio only
        takes the socket out of its rooms after this returns, so an exception
        escaping here would leave it behind.
        """
        environ = self.server.get_environ(sid)
        if environ:
            app = environ["flask.app"]
            app_state(app).limits.release_address(environ)
            untrack_session(app, environ, sid)
        forget_socket(self.server, sid)  # the scopes only it was subscribed under
        for handler in self.disconnect_handlers:
            args = (reason,) if takes_reason(handler) else ()
            try:
                self.run_plain_handler(handler, "disconnect", "/", sid, *args)
            except Exception:
                logger.exception("a disconnect handler of socket %s failed", sid)
        namespace = self.server.namespace_handlers.get("/")
        if namespace is not None:
            try:
                namespace.trigger_event("disconnect", sid, reason)
            except Exception:
                logger.exception("the namespace's disconnect handler of socket %s failed", sid)


def takes_reason(handler: Callable[..., Any]) -> bool:
    """Whether a disconnect handler takes the reason (newer) or nothing (older style)."""
    try:
        inspect.signature(handler).bind("reason")
    except TypeError:
        return False
    except ValueError:  # no signature to inspect (some builtins): assume the newer style
        return True
    return True


def refuse_reserved_event(event: str) -> None:
    """Raise for an app handler of an event SockPub serves on the default namespace."""
    if event.lower() in RESERVED_EVENTS or event.lower().startswith(INTERNAL_PREFIX):
        reserved = ", ".join([*sorted(RESERVED_EVENTS), f"{INTERNAL_PREFIX}*"])
        raise ValueError(
            f"the event {event!r} on the default namespace '/' is SockPub's: socket requests "
            f"arrive as it and are answered by your views. Reserved names: {reserved}. "
            "Use another event name or another namespace for a plain handler."
        )


def register_handlers(socketio: SocketIO, server: Server) -> None:
    """Put SockPub's event handlers on the python-socketio server.

    They are registered on python-socketio directly rather than through
    Flask-SocketIO, which would build a request context per event that a
    virtual request does not need (it builds its own).
    """
    for method in METHODS:
        server.on(method, counted(socketio, partial(replay, server, method)))
    server.on(MALFORMED_EVENT, partial(answer_malformed, server))
    # On the app's other namespaces too: a client event named "disconnect" on
    # "/chat" arrives as MALFORMED_EVENT and is answered, not run.
    server.on(MALFORMED_EVENT, partial(answer_malformed_elsewhere, server), namespace="*")
    server.on(UNACKED_EVENT, counted(socketio, partial(replay_unacked, server)))
    server.on("*", counted(socketio, partial(answer_other_event, socketio)))
    server.on("connect", socketio.connected)
    server.on("disconnect", socketio.disconnected)


def counted(socketio: SocketIO, handler: Callable[..., Any]) -> Callable[..., Any]:
    """``handler``, counted in ``socketio.requests_in_flight`` while it runs."""

    def run(*args: Any) -> Any:
        socketio.requests_in_flight += 1
        try:
            return handler(*args)
        finally:
            socketio.requests_in_flight -= 1

    return run


def answer_malformed_elsewhere(server: Server, namespace: str, sid: str, *args: Any) -> Any:
    """:func:`~flask_sockpub.virtual.answer_malformed` on a namespace other than ``/``."""
    return answer_malformed(server, sid, *args)


def answer_other_event(socketio: SocketIO, event: str, sid: str, *args: Any) -> Any:
    """An event without a handler of its own on ``/``: whoever takes it, in python-socketio's order.

    A socket request in other case (``GET``), else the app's ``"*"`` handler
    on ``/``, else the app's handlers on every namespace (``namespace="*"``),
    else Sails 0.9's ``message`` event unless the app's class-based namespace
    handles it, else that namespace, else a 400 (the error alone for a v0.9
    string payload).
    """
    server = socketio.server
    method = event.lower()
    if method in METHODS:
        return replay(server, method, sid, *args)
    if socketio.catch_all is not None:
        return socketio.catch_all(event, sid, *args)
    every_namespace = server.handlers.get("*", {})
    if event in every_namespace:
        return every_namespace[event]("/", sid, *args)
    if "*" in every_namespace:
        return every_namespace["*"](event, "/", sid, *args)
    namespace = server.namespace_handlers.get("/")
    if event == MESSAGE_EVENT and not hasattr(namespace, f"on_{MESSAGE_EVENT}"):
        return replay_message(server, sid, *args)
    if namespace is not None:
        return namespace.trigger_event(event, sid, *args)
    return answer_unknown(event, sid, server, legacy=is_legacy(args))
