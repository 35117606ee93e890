"""A Python client for SockPub servers, on python-socketio's client.

Needs the ``client`` extra (``pip install flask-sockpub[client]``)::

    from flask_sockpub.client import Client

    with Client("http://127.0.0.1:5000") as client:
        client.on("message", print)            # model and room messages
        response = client.get("/user", {"limit": 2})
        print(response.status_code, response.body)
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import socketio
from socketio import exceptions

from .jwr import Response

__all__ = ["Client", "ClientError", "ConnectionRefused", "Disconnected", "RequestTimeout", "Response"]


class ClientError(Exception):
    """Base of the errors the client raises."""


class ConnectionRefused(ClientError):
    """The server refused the socket (or could not be reached); the message says why."""


class Disconnected(ClientError):
    """A request was made on a socket that is not connected."""


class RequestTimeout(ClientError, TimeoutError):
    """The server did not answer a request in time."""


class Client:
    """A socket connected to a SockPub server, making socket requests.

    :param url: the server, e.g. ``"http://127.0.0.1:5000"``.
    :param headers: handshake headers.
    :param cookies: cookies for the handshake (the socket's session).
    :param auth: the Socket.IO ``auth`` payload, seen by the server as
        ``current_socket.auth``.
    :param timeout: seconds to wait for each answer, unless a request says otherwise.
    :param transports: ``("websocket",)`` by default; add ``"polling"`` to start
        with HTTP long-polling as browsers do.
    :param reconnection: reconnect after the connection drops.
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
        self.sio = socketio.Client(reconnection=reconnection)
        self._refusal: list[Any] = []
        self.sio.on("connect_error", self._refusal.append)
        handshake = dict(headers or {})
        if cookies:
            handshake["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        try:
            self.sio.connect(
                url,
                headers=handshake,
                auth=auth,
                transports=list(transports),
                socketio_path=socketio_path,
                wait_timeout=timeout,
            )
        except exceptions.ConnectionError as exc:
            self.sio.disconnect()
            raise ConnectionRefused(self._refusal_reason() or str(exc)) from None

    def _refusal_reason(self) -> str | None:
        for data in self._refusal:
            if isinstance(data, dict) and data.get("message"):
                return str(data["message"])
            if data:
                return str(data)
        return None

    @property
    def sid(self) -> str | None:
        """The socket's id, as the server knows it."""
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
    ) -> Response:
        """Make a socket request and wait for its answer.

        :raises RequestTimeout: no answer within ``timeout`` seconds.
        :raises Disconnected: the socket is not connected.
        """
        payload: dict[str, Any] = {"method": method.upper(), "url": url}
        if data is not None:
            payload["data"] = data
        if headers is not None:
            payload["headers"] = dict(headers)
        wait = self.timeout if timeout is None else timeout
        try:
            jwr = self.sio.call(method.lower(), payload, timeout=wait)
        except exceptions.TimeoutError:
            raise RequestTimeout(f"no answer to {method.upper()} {url} within {wait} s") from None
        except exceptions.BadNamespaceError:
            raise Disconnected(f"cannot send {method.upper()} {url}: the socket is not connected") from None
        return Response.from_jwr(jwr)

    def get(self, url: str, data: Any = None, headers: Mapping[str, str] | None = None, timeout: float | None = None) -> Response:
        """A GET socket request; ``data`` becomes the query string."""
        return self.request("GET", url, data, headers, timeout)

    def post(self, url: str, data: Any = None, headers: Mapping[str, str] | None = None, timeout: float | None = None) -> Response:
        """A POST socket request; ``data`` becomes the JSON body."""
        return self.request("POST", url, data, headers, timeout)

    def put(self, url: str, data: Any = None, headers: Mapping[str, str] | None = None, timeout: float | None = None) -> Response:
        """A PUT socket request; ``data`` becomes the JSON body."""
        return self.request("PUT", url, data, headers, timeout)

    def patch(self, url: str, data: Any = None, headers: Mapping[str, str] | None = None, timeout: float | None = None) -> Response:
        """A PATCH socket request; ``data`` becomes the JSON body."""
        return self.request("PATCH", url, data, headers, timeout)

    def delete(self, url: str, data: Any = None, headers: Mapping[str, str] | None = None, timeout: float | None = None) -> Response:
        """A DELETE socket request; ``data`` becomes the query string."""
        return self.request("DELETE", url, data, headers, timeout)

    def on(self, event: str, handler: Callable[..., Any] | None = None) -> Any:
        """Call ``handler`` with the data of every ``event`` the server sends.

        Usable as a decorator: ``@client.on("message")``.
        """
        if handler is None:
            return lambda fn: self.on(event, fn)
        self.sio.on(event, handler)
        return handler

    def emit(self, event: str, *args: Any, timeout: float | None = None) -> Any:
        """Emit a raw event and wait for the server's acknowledgement."""
        wait = self.timeout if timeout is None else timeout
        try:
            return self.sio.call(event, args[0] if len(args) == 1 else args or None, timeout=wait)
        except exceptions.TimeoutError:
            raise RequestTimeout(f"no acknowledgement of {event!r} within {wait} s") from None

    def close(self) -> None:
        """Disconnect."""
        self.sio.disconnect()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
