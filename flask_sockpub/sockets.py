"""``Socket``, a connected client, and ``current_socket``, the one making the current request."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from flask import has_request_context, request
from werkzeug.local import LocalProxy

from .state import app_state

if TYPE_CHECKING:
    import socketio

#: Virtual request environ key holding the request's :class:`Socket`; its
#: presence marks a socket request.
SOCKET_KEY = "sockpub.socket"
#: Virtual request environ key holding the handshake environ of the request's socket.
SOCKET_CONNECTION_KEY = "sockpub.socket_connection"
#: Connection environ key of the ``auth`` payload the client sent at connect.
AUTH_KEY = "sockpub.auth"
#: Virtual request environ key set when the request's own socket joined a room.
SUBSCRIBED_KEY = "sockpub.subscribed"
#: Connection environ key marking the environ as a socket's, for the request
#: contexts pushed on it around plain handlers (and authorize hooks): SockPub's
#: session interface then opens the socket's session there.
CONNECTION_KEY = "sockpub.connection"
#: JWR header (value ``"1"``) on the answer to a socket request that joined its
#: own socket to a room: ``listen()`` or a model room ``subscribe()``. The
#: browser SDK re-issues such GET requests after it reconnects.
SUBSCRIBED_HEADER = "X-Sockpub-Subscribed"


class Socket:
    """A connected Socket.IO client: Sails 0.9's ``req.socket``.

    Sockets compare equal when their ids do, so they can be kept in sets and
    compared with the sockets ``subscribers()`` returns.
    """

    __slots__ = ("id", "namespace", "server")

    def __init__(self, server: socketio.Server, id: str, namespace: str = "/") -> None:
        #: The Socket.IO session id, unique per connection and namespace.
        self.id = id
        self.namespace = namespace
        #: The python-socketio server the socket is connected to.
        self.server = server

    def emit(self, event: str, data: Any = None) -> None:
        """Send ``event`` with ``data`` to this socket alone."""
        self.server.emit(event, data, to=self.id, namespace=self.namespace)

    @property
    def rooms(self) -> list[str]:
        """The Socket.IO rooms this socket is in, its own room (its id) included."""
        return list(self.server.rooms(self.id, namespace=self.namespace))

    @property
    def environ(self) -> dict[str, Any] | None:
        """The WSGI environ of the socket's handshake; ``None`` once it has gone."""
        return cast(
            "dict[str, Any] | None", self.server.get_environ(self.id, namespace=self.namespace)
        )

    @property
    def auth(self) -> Any:
        """The Socket.IO ``auth`` payload the client sent when it connected, if any."""
        environ = self.environ
        return auth_of(environ) if environ else None

    @property
    def connected(self) -> bool:
        """Whether the socket is still connected to this server process."""
        return bool(self.server.manager.is_connected(self.id, self.namespace))

    def watch(self, instances: Any) -> bool:
        """Hear the updates and destroys of ``instances`` (Sails 0.9's "coming soon" ``req.socket.watch(models)``).

        ``instances`` is a model instance or any iterable of them, of one model
        or several; the socket joins each one's instance room, as
        ``Model.subscribe(socket, instances)`` does, under the same
        authorisation rules::

            current_socket.watch(Product.query.filter_by(on_sale=True))

        :returns: ``False`` when the socket is no longer connected.
        """
        single = not isinstance(instances, Iterable) or isinstance(instances, (str, bytes))
        by_model: dict[type, list[Any]] = {}
        for instance in [instances] if single else instances:
            by_model.setdefault(type(instance), []).append(instance)
        state = app_state()
        return all(
            state.sockpub.model(model).subscribe(self, watched)
            for model, watched in by_model.items()
        )

    def subscribe_to(self, model: type[Any]) -> bool:
        """Hear the creates of ``model`` and be introduced to each new instance (Sails 0.9's "coming soon" ``req.socket.subscribeTo(Model)``).

        The socket joins the model's class room, as ``Model.subscribe(socket)``
        does: every ``publish_create`` reaches it and puts it in the new
        instance's room, so it hears that instance's updates and destroys too.

        :returns: ``False`` when the socket is no longer connected.
        """
        return bool(app_state().sockpub.model(model).subscribe(self))

    def disconnect(self) -> None:
        """Close the connection from the server side."""
        self.server.disconnect(self.id, namespace=self.namespace)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Socket):
            return self.id == other.id and self.namespace == other.namespace
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.id, self.namespace))

    def __repr__(self) -> str:
        return f"<Socket {self.id}>"


def find_current_socket() -> Socket | None:
    """The socket of the current socket request or plain Socket.IO handler, else ``None``."""
    if not has_request_context():
        return None
    socket = socket_of_request(request.environ)
    if socket is not None:
        return socket
    sid = getattr(request, "sid", None)  # set by Flask-SocketIO in its own handlers
    if sid is None:
        return None
    return Socket(app_state().server, sid, getattr(request, "namespace", "/"))


def note_subscribed(socket: Socket) -> None:
    """Mark the current socket request as one that subscribed ``socket``, if it is the request's own.

    Called wherever a socket joins a room; the request's JWR then carries
    :data:`SUBSCRIBED_HEADER`. Joining another socket to a room marks nothing.
    """
    if has_request_context():
        environ = request.environ
        if environ.get(SOCKET_KEY) == socket:
            environ[SUBSCRIBED_KEY] = True


#: The socket of the current socket request: Sails 0.9's ``req.socket``. Falsy
#: (it proxies ``None``) during HTTP requests, so ``if current_socket:`` tells
#: the two apart.
current_socket: Socket = cast(Socket, LocalProxy(find_current_socket))


def as_socket(server: socketio.Server, socket: Socket | str | None) -> Socket | None:
    """A ``Socket`` from a ``Socket``, a socket id, or ``None`` (the current socket)."""
    if isinstance(socket, LocalProxy):
        socket = socket._get_current_object()  # type: ignore[attr-defined]
    if socket is None:
        return find_current_socket()
    if isinstance(socket, Socket):
        return socket
    if isinstance(socket, str):
        return Socket(server, socket)
    raise TypeError(f"expected a Socket, a socket id or None, not {type(socket).__name__}")


def socket_of_request(environ: dict[str, Any]) -> Socket | None:
    """The socket of the virtual request whose environ this is; ``None`` for HTTP."""
    return cast("Socket | None", environ.get(SOCKET_KEY))


def is_socket_request(environ: dict[str, Any]) -> bool:
    """Whether this environ is a virtual request's (a socket request), not HTTP's."""
    return SOCKET_KEY in environ


def mark_socket_request(
    environ: dict[str, Any], socket: Socket, connection: dict[str, Any]
) -> None:
    """Make this environ a virtual request of ``socket``, whose handshake environ is ``connection``."""
    environ[SOCKET_KEY] = socket
    environ[SOCKET_CONNECTION_KEY] = connection


def connection_of_request(environ: dict[str, Any]) -> dict[str, Any] | None:
    """The handshake environ of the socket of the virtual request whose environ this is; ``None`` for HTTP.

    The socket's own :attr:`Socket.environ` asks the server (and says ``None``
    once the socket has gone); a virtual request keeps the one it was made on.
    """
    return cast("dict[str, Any] | None", environ.get(SOCKET_CONNECTION_KEY))


def subscribed_own_socket(environ: dict[str, Any]) -> bool:
    """Whether the virtual request of this environ joined its own socket to a room."""
    return bool(environ.get(SUBSCRIBED_KEY))


def keep_auth(connection: dict[str, Any], auth: Any) -> None:
    """Keep the ``auth`` payload of a connecting socket in its handshake environ."""
    connection[AUTH_KEY] = auth


def auth_of(connection: dict[str, Any]) -> Any:
    """The ``auth`` payload kept by :func:`keep_auth`."""
    return connection.get(AUTH_KEY)
