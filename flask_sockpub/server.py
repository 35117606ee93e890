"""Flask-SocketIO's server as SockPub runs it: async mode, lifecycle handlers, serving."""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any

import flask_socketio
from flask import Flask
from socketio.exceptions import ConnectionRefusedError

from .packets import MalformedPayload
from .sessions import mark_connection
from .sockets import AUTH_KEY

logger = logging.getLogger("flask_sockpub")

ASYNC_MODES = ("threading", "gevent", "eventlet")
#: Listen backlog and connection cap SockPub gives eventlet (its own: 50 and 1,024).
EVENTLET_BACKLOG = 2048
EVENTLET_MAX_CONNECTIONS = 100_000


def pick_async_mode() -> str:
    """gevent or eventlet when the process is already monkey-patched by it, else threading.

    An installed but unpatched eventlet is never picked: it breaks the Redis
    queue and warns on import.
    """
    if "gevent" in sys.modules:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            return "gevent"
    if "eventlet" in sys.modules:
        import eventlet.patcher

        if eventlet.patcher.is_monkey_patched("socket"):
            return "eventlet"
    return "threading"


class SocketIO(flask_socketio.SocketIO):
    """Flask-SocketIO's ``SocketIO``, with connect and disconnect handlers chained.

    python-socketio keeps one handler per event, and SockPub needs its own for
    ``connect`` (to keep the ``auth`` payload). Handlers the app registers with
    ``@socketio.on("connect")`` / ``("disconnect")`` on the default namespace
    are kept in a list and run after SockPub's, in registration order, with
    Flask-SocketIO's request context as usual.
    """

    def __init__(self, app: Flask | None = None, **options: Any) -> None:
        self.connect_handlers: list[Callable[..., Any]] = []
        self.disconnect_handlers: list[Callable[..., Any]] = []
        super().__init__(app, **options)

    def on(
        self, message: str, namespace: str | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        if namespace not in (None, "/") or message not in ("connect", "disconnect"):
            return super().on(message, namespace)  # type: ignore[no-any-return]
        handlers = self.connect_handlers if message == "connect" else self.disconnect_handlers

        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            handlers.append(handler)
            return handler

        return register

    def _handle_event(
        self, handler: Callable[..., Any], message: str, namespace: str, sid: str, *args: Any
    ) -> Any:
        # Every plain handler runs here, in a request context Flask-SocketIO
        # pushes on the handshake environ: mark that environ so SockPub's
        # session interface opens the socket's session for it.
        environ = self.server.get_environ(sid, namespace=namespace)
        if environ:
            mark_connection(environ["flask.app"], environ)
        return super()._handle_event(handler, message, namespace, sid, *args)

    def connected(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool | None:
        """python-socketio's connect handler: keep ``auth``, then run the app's handlers."""
        if isinstance(auth, MalformedPayload):
            raise ConnectionRefusedError(auth.reason)
        if auth is None:
            scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                auth = {"token": token.strip()}
        environ[AUTH_KEY] = auth
        try:
            for handler in self.connect_handlers:
                if self._handle_event(handler, "connect", "/", sid, environ, auth) is False:
                    return False
            namespace = self.server.namespace_handlers.get("/")
            if namespace is not None:
                return namespace.trigger_event("connect", sid, environ, auth)  # type: ignore[no-any-return]
        except ConnectionRefusedError:
            raise
        except Exception:
            logger.exception("a connect handler failed; socket %s refused", sid)
            raise ConnectionRefusedError("internal server error") from None
        return None

    def disconnected(self, sid: str, reason: str | None = None) -> None:
        """python-socketio's disconnect handler: run the app's handlers.

        Each handler runs even when an earlier one fails: python-socketio only
        takes the socket out of its rooms after this returns, so an exception
        escaping here would leave it behind.
        """
        for handler in self.disconnect_handlers:
            args = (reason,) if takes_reason(handler) else ()
            try:
                self._handle_event(handler, "disconnect", "/", sid, *args)
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


class DeclineCompression:
    """WSGI middleware that hides a client's per-message deflate offer.

    Browsers offer compression on every WebSocket; accepting it costs memory
    on each socket and halves fan-out. Without the offer, every WebSocket
    server under Flask-SocketIO answers uncompressed.
    """

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return self.wsgi_app(environ, start_response)


def serve(socketio: SocketIO, app: Flask, host: str, port: int, **options: Any) -> None:
    """Serve ``app`` (HTTP and sockets on one port) until the process stops."""
    mode = socketio.async_mode
    if mode == "threading":
        # The Werkzeug server refuses to start without a terminal unless told.
        options.setdefault("allow_unsafe_werkzeug", True)
    elif mode == "eventlet" and not options.get("use_reloader") and "certfile" not in options:
        serve_eventlet(app, host, port, **options)
        return
    socketio.run(app, host=host, port=port, **options)


def serve_eventlet(
    app: Flask, host: str, port: int, log_output: bool = False, **options: Any
) -> None:
    """eventlet's WSGI server with a backlog and connection cap fit for many sockets."""
    import eventlet
    import eventlet.wsgi

    options.pop("debug", None)
    listener = eventlet.listen((host, port), backlog=options.pop("backlog", EVENTLET_BACKLOG))
    max_size = options.pop("max_size", EVENTLET_MAX_CONNECTIONS)
    eventlet.wsgi.server(listener, app, log_output=log_output, max_size=max_size, **options)
