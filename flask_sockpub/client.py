"""A Python client for SockPub servers, on python-socketio's client.

Needs the ``client`` extra (``pip install flask-sockpub[client]``)::

    from flask_sockpub.client import Client

    with Client("http://127.0.0.1:5000") as client:
        client.on("message", print)            # model and room messages
        response = client.get("/user", {"limit": 2})
        print(response.status_code, response.body)

Errors are subclasses of :class:`ClientError`: :class:`ConnectionRefused`
when the server cannot be reached or refuses the socket (the message says
why), :class:`RequestTimeout` when an answer does not come in time, and
:class:`Disconnected` for a request on a socket that is gone.
"""

from __future__ import annotations

import gc
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Mapping
from functools import partial
from types import TracebackType
from typing import Any

import requests
import socketio
from socketio import exceptions

from .wire.jwr import Response, SocketRequests, SocketResponse, request_payload

__all__ = [
    "Client",
    "ClientError",
    "ConnectionRefused",
    "Disconnected",
    "RequestTimeout",
    "Response",
    "SocketResponse",
]

#: Seconds :meth:`Client.close` waits for the server to answer its WebSocket
#: closing frame.
CLOSE_WAIT = 0.2
#: Seconds :meth:`Client.close` waits for the long-polling transport to wind down.
POLLING_CLOSE_WAIT = 1.0
#: Disconnect reasons of a connection lost (not closed by either side).
LOST_TRANSPORT_REASONS = frozenset({"transport error", "transport close"})


class ClientError(Exception):
    """Base of the errors the client raises."""


class ConnectionRefused(ClientError):
    """The server refused the socket, or could not be reached; the message says why.

    A connect hook on the server that raises
    ``flask_socketio.ConnectionRefusedError("invalid token")`` gives a
    ``ConnectionRefused("invalid token")`` here.
    """

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        #: Extra data the server sent with its refusal
        #: (``ConnectionRefusedError("message", data)``), else ``None``.
        self.data = data


class Disconnected(ClientError):
    """The socket is not connected, or disconnected before a request was answered."""


class RequestTimeout(ClientError, TimeoutError):
    """The server did not answer a request in time."""


class _Pending:
    """A request waiting for its acknowledgement."""

    __slots__ = ("answered", "args", "disconnect_reason")

    def __init__(self) -> None:
        self.answered = threading.Event()
        self.args: tuple[Any, ...] = ()
        self.disconnect_reason: str | None = None

    def answer(self, *args: Any) -> None:
        self.args = args
        self.answered.set()

    def abandon(self, reason: str) -> None:
        self.disconnect_reason = reason
        self.answered.set()


class Client(SocketRequests):
    """A socket connected to a SockPub server, making socket requests.

    The socket connects when the client is made and stays connected until
    :meth:`close` (or the end of a ``with`` block)::

        with Client("http://127.0.0.1:5000", auth={"token": token}) as client:
            created = client.post("/user", {"name": "Randy"})
            assert created.status_code == 201
            print(client.get(f"/user/{created.body['id']}").body)

    Every request waits for its answer at most ``timeout`` seconds, then
    raises :class:`RequestTimeout`; one request may wait longer or shorter::

        client.get("/report", timeout=60)

    A client may be shared by several threads.

    :param url: the server, e.g. ``"http://127.0.0.1:5000"``.
    :param headers: handshake headers; every socket request carries them
        (``Authorization: Bearer <token>`` is seen by the server as
        ``current_socket.auth == {"token": "<token>"}`` when no ``auth`` is given).
    :param cookies: cookies for the handshake: the session of the socket's
        requests is the session these cookies name.
    :param auth: the Socket.IO ``auth`` payload, seen by the server as
        ``current_socket.auth`` and by its connect hooks.
    :param timeout: seconds to wait for the connection and for each answer,
        unless a request says otherwise.
    :param transports: ``("websocket",)`` by default; ``("polling", "websocket")``
        starts with HTTP long-polling and upgrades, as browsers do.
    :param reconnection: reconnect after the connection drops (a server
        shutting down gracefully drops it too), after a randomized delay: 1 s
        doubling up to 5 s, each +-50%, so that the sockets of one server do
        not all come back at once. Requests waiting when it drops raise
        :class:`Disconnected`; the socket is a new one (a new :attr:`sid`,
        in no room): make the subscribing requests again once
        :attr:`connected` (not from an event handler, which runs on the
        receiving thread).
    :param socketio_path: the Socket.IO endpoint on the server.
    :raises ConnectionRefused: the server could not be reached or refused the socket.
    """

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        auth: Any = None,
        *,
        timeout: float = 10.0,
        transports: tuple[str, ...] = ("websocket",),
        reconnection: bool = False,
        socketio_path: str = "socket.io",
    ) -> None:
        self.url = url
        self.timeout = timeout
        handshake = dict(headers or {})
        if cookies:
            handshake["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        # websocket-client adds an Origin of its own beside one given in the
        # headers, and the server refuses a handshake with two: keep ours alone.
        suppress_origin = any(name.lower() == "origin" for name in handshake)
        #: The underlying ``socketio.Client``, for what this class does not offer.
        self.sio = socketio.Client(
            reconnection=reconnection,
            websocket_extra_options={"suppress_origin": True} if suppress_origin else {},
        )
        self._pending: set[_Pending] = set()
        self._disconnect_handlers: list[Callable[..., Any]] = []
        # python-socketio's client warns that concurrent emits may interleave
        # the packets of a binary message: one sender at a time.
        self._send_lock = threading.Lock()
        self._state_lock = threading.Lock()
        refusals: list[Any] = []

        def connect_failed(data: Any = None) -> None:
            refusals.append(data)
            self._shorten_close_wait()  # python-socketio disconnects before raising

        self.sio.on("connect_error", connect_failed)
        self.sio.on("disconnect", self._disconnected)
        try:
            self.sio.connect(
                url,
                headers=handshake,
                auth=auth,
                transports=list(transports),
                socketio_path=socketio_path,
                wait_timeout=timeout,
            )
        except (exceptions.ConnectionError, ValueError) as exc:
            # ValueError: engine.io's client reading an empty answer where the
            # handshake's was expected (a server that closed the WebSocket
            # after accepting it, as gevent-websocket does on a refused origin).
            # engine.io leaves that WebSocket to the garbage collector: close
            # it now, quietly, rather than warn later at a random place.
            if isinstance(exc, ValueError):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ResourceWarning)
                    traceback.clear_frames(exc.__traceback__)
                    gc.collect()
            self._disconnect()
            if not refusals:
                refusals.extend(_handshake_refusal(url, socketio_path, handshake, timeout))
            raise _refused(url, refusals, exc) from None

    @property
    def sid(self) -> str | None:
        """The socket's id, as the server knows it (``current_socket.id``)."""
        return self.sio.get_sid("/")  # type: ignore[no-any-return]

    @property
    def connected(self) -> bool:
        """Whether the socket is connected."""
        return bool(self.sio.connected)

    def request(
        self,
        method: str,
        url: str,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> SocketResponse:
        """Make a socket request and wait for its answer.

        ::

            response = client.request("PATCH", "/user/7", {"name": "Amanda"})

        :param data: the query string for GET, HEAD, DELETE and OPTIONS, the
            JSON body for POST, PUT and PATCH.
        :param headers: headers of this request, on top of the handshake's.
        :param timeout: seconds to wait for the answer (default: the client's).
        :raises RequestTimeout: no answer within ``timeout`` seconds.
        :raises Disconnected: the socket is not connected, or disconnected
            before the answer came.
        """
        payload = request_payload(method, url, data, headers)
        what = f"{method.upper()} {url}"
        return SocketResponse.from_jwr(self._call(method.lower(), payload, what, timeout))

    def on(self, event: str, handler: Callable[..., Any] | None = None) -> Any:
        """Call ``handler`` with the data of every ``event`` the server sends.

        ::

            client.on("message", lambda message: print(message["verb"]))

            @client.on("user")
            def user_changed(message):
                ...

        Handlers run on the client's receiving thread: keep them short.
        ``"disconnect"`` handlers (several may be registered) get the reason.
        A later handler for any other event replaces the earlier one.
        """
        if handler is None:
            return lambda fn: self.on(event, fn)
        if event == "disconnect":
            self._disconnect_handlers.append(handler)
        else:
            self.sio.on(event, handler)
        return handler

    def emit(self, event: str, *args: Any, timeout: float | None = None) -> Any:
        """Emit a raw event and return the server's acknowledgement.

        For events the app handles with ``@sockpub.socketio.on(event)``, and
        for talking the wire protocol directly::

            jwr = client.emit("get", {"method": "GET", "url": "/echo"})

        :raises RequestTimeout: no acknowledgement within ``timeout`` seconds.
        :raises Disconnected: the socket is not connected, or disconnected
            before the acknowledgement came.
        """
        data = args[0] if len(args) == 1 else args or None
        return self._call(event, data, f"event {event!r}", timeout)

    def close(self) -> None:
        """Disconnect; requests still waiting raise :class:`Disconnected`."""
        self._disconnect()
        self._abandon_pending("the client closed the socket")

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _disconnect(self) -> None:
        self._shorten_close_wait()
        self._wait_until_sent()
        if getattr(self.sio.eio, "current_transport", None) != "polling":
            self.sio.disconnect()
            return
        # Over long-polling, python-engineio sends the close packets, then
        # waits for its pending poll to return. Should those packets be lost
        # anyway (see _wait_until_sent), the server ends that poll only at its
        # next ping, 25 s later: do not wait for that.
        closing = threading.Thread(target=self.sio.disconnect, daemon=True)
        closing.start()
        closing.join(timeout=POLLING_CLOSE_WAIT)

    def _wait_until_sent(self, timeout: float = 1.0) -> None:
        """Wait (a little) until python-engineio's writer has sent every queued packet.

        Its writer stops as soon as a disconnect begins, dropping packets
        still queued, the Socket.IO disconnect among them, when it is busy
        sending an earlier one at that moment. Starting with an idle writer
        makes that much rarer.
        """
        queue = getattr(self.sio.eio, "queue", None)
        deadline = time.monotonic() + timeout
        while getattr(queue, "unfinished_tasks", 0) and time.monotonic() < deadline:
            time.sleep(0.005)

    def _shorten_close_wait(self) -> None:
        websocket = getattr(self.sio.eio, "ws", None)
        if websocket is not None:
            # python-engineio closes its WebSocket with websocket-client's
            # default wait of 3 s for the server's closing frame. Under
            # Werkzeug and gevent's pywsgi (without gevent-websocket) that
            # frame never comes and the TCP connection stays open, so every
            # close took 3 s. The server has had our Engine.IO close packet
            # and closing frame by then: a short wait is enough.
            websocket.close = partial(type(websocket).close, websocket, timeout=CLOSE_WAIT)

    def _call(self, event: str, data: Any, what: str, timeout: float | None) -> Any:
        """Emit ``event`` and wait for its acknowledgement; its single argument, or a tuple."""
        wait = self.timeout if timeout is None else timeout
        pending = _Pending()
        with self._state_lock:
            self._pending.add(pending)
        try:
            try:
                with self._send_lock:
                    self.sio.emit(event, data, callback=pending.answer)
            except exceptions.BadNamespaceError:
                raise Disconnected(f"cannot send {what}: the socket is not connected") from None
            if not pending.answered.wait(wait):
                raise RequestTimeout(f"no answer to {what} within {wait:g} s")
        finally:
            with self._state_lock:
                self._pending.discard(pending)
        if pending.disconnect_reason is not None:
            raise Disconnected(f"no answer to {what}: {pending.disconnect_reason}")
        args = pending.args
        return args[0] if len(args) == 1 else (args or None)

    def _disconnected(self, reason: str | None = None) -> None:
        if reason in LOST_TRANSPORT_REASONS:
            # python-engineio leaves the WebSocket of a lost transport open
            # (for the garbage collector to close, with a ResourceWarning at a
            # random place); the client reconnects on a new one.
            websocket = getattr(self.sio.eio, "ws", None)
            if websocket is not None:
                websocket.shutdown()
        self._abandon_pending(f"the socket disconnected ({reason or 'no reason given'})")
        for handler in list(self._disconnect_handlers):
            handler(reason)

    def _abandon_pending(self, reason: str) -> None:
        with self._state_lock:
            pending, self._pending = self._pending, set()
        for request in pending:
            request.abandon(reason)


def _refused(url: str, refusals: list[Any], error: Exception) -> ConnectionRefused:
    """The error for a failed connection, from the ``connect_error`` events it gave."""
    for refusal in refusals:
        if isinstance(refusal, dict) and refusal.get("message"):
            # A CONNECT_ERROR packet: the server's connect handlers said no.
            return ConnectionRefused(
                f"{url} refused the socket: {refusal['message']}", refusal.get("data")
            )
    reasons = [str(refusal) for refusal in refusals if refusal] or [str(error)]
    cause = _os_error(error)
    detail = f" ({cause})" if cause is not None else ""
    return ConnectionRefused(f"could not connect to {url}: {reasons[0]}{detail}")


def _handshake_refusal(
    url: str, socketio_path: str, headers: Mapping[str, str], timeout: float
) -> list[str]:
    """Why the server refused a handshake, asked again over HTTP: ``[]`` when it gives no reason.

    A WebSocket handshake the server refuses (a foreign ``Origin``, a bad
    path) surfaces from the WebSocket library as a bare "Connection error";
    the same handshake over HTTP long-polling gets the server's reason.
    """
    probe = f"{url.rstrip('/')}/{socketio_path.strip('/')}/?EIO=4&transport=polling"
    try:
        answer = requests.get(probe, headers=dict(headers), timeout=timeout)
    except requests.RequestException:
        return []
    if answer.status_code < 400:
        return []
    reason = answer.text.strip().strip('"')[:200] or answer.reason
    return [f"the server answered {answer.status_code}: {reason}"]


def _os_error(error: BaseException) -> OSError | None:
    """The network error under python-socketio's and engine.io's vaguer ones, if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
