"""Test helpers for apps that use SockPub (and for SockPub's own tests).

* :class:`SocketTestClient`: a socket connected to the app without a network,
  like Flask's test client (``sockpub.test_client(app)``).
* :func:`live_server`: the app served for real, in a subprocess, on a free
  127.0.0.1 port, for tests with real sockets and real clients;
  :func:`live_servers` several such processes at once, for a cluster on one
  message queue.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import IO, Any, NamedTuple, Protocol

from flask import Flask
from flask.testing import FlaskClient

from .state import app_state
from .wire.jwr import SocketRequests, SocketResponse, request_payload


class Received(NamedTuple):
    """An event a test socket received: its name and first argument."""

    event: str
    data: Any


class SocketTestClient(SocketRequests):
    """A socket connected to ``app`` without a network.

    ::

        client = sockpub.test_client(app)
        assert client.get("/echo", {"message": "hi"}).body == {"success": True, "message": "hi"}

    :param headers: handshake headers.
    :param auth: the Socket.IO ``auth`` payload.
    :param flask_test_client: a Flask test client whose cookies (the session)
        the socket's handshake carries.
    """

    def __init__(
        self,
        app: Flask,
        *,
        headers: Mapping[str, str] | None = None,
        auth: Any = None,
        query_string: str | None = None,
        flask_test_client: FlaskClient | None = None,
    ) -> None:
        state = app_state(app)
        self.server = state.server
        self.client = state.socketio.test_client(
            app,
            headers=dict(headers or {}),
            auth=auth,
            query_string=query_string,
            flask_test_client=flask_test_client,
        )

    @property
    def sid(self) -> str | None:
        """The socket's id, as the server knows it; ``None`` when not connected."""
        return self.server.manager.sid_from_eio_sid(self.client.eio_sid, "/")  # type: ignore[no-any-return]

    @property
    def connected(self) -> bool:
        """Whether the server accepted the socket and it is still connected."""
        return bool(self.client.is_connected())

    def request(
        self,
        method: str,
        url: str,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> SocketResponse:
        """Make a socket request; the answer as a :class:`~flask_sockpub.SocketResponse`.

        ``timeout`` is there for the shape of the other clients: the test
        client answers before it returns.
        """
        return SocketResponse.from_jwr(
            self.emit(method.lower(), request_payload(method, url, data, headers))
        )

    def emit(self, event: str, *args: Any) -> Any:
        """Emit a raw event asking for an acknowledgement; returns what the server acknowledged."""
        return self.client.emit(event, *args, callback=True)

    def received(self, event: str | None = None) -> list[Received]:
        """The events received since the last call, optionally only those named ``event``."""
        events = [
            Received(item["name"], _first(item["args"])) for item in self.client.get_received()
        ]
        return [item for item in events if event is None or item.event == event]

    def disconnect(self) -> None:
        """Disconnect the socket."""
        self.client.disconnect()


def _first(args: Any) -> Any:
    # Flask-SocketIO gives "message" events their payload, others a list of arguments.
    if isinstance(args, list):
        return args[0] if args else None
    return args


@dataclass
class LiveServer:
    """A server started by :func:`live_server`."""

    url: str
    process: subprocess.Popen[bytes]
    log_file: IO[bytes]

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self.url.rsplit(":", 1)[1])

    def log(self) -> str:
        """Everything the server printed so far."""
        self.log_file.flush()
        with open(self.log_file.name, "rb") as log:
            return log.read().decode("utf-8", errors="replace")

    def check_alive(self) -> None:
        """Raise, with what the server printed, if it has exited."""
        if self.process.poll() is not None:
            raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log()}")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_server(
    target: str,
    *,
    async_mode: str = "threading",
    env: Mapping[str, str] | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    start_timeout: float = 30.0,
) -> Iterator[LiveServer]:
    """Serve the app ``target`` (``"module:app"`` or ``"module:factory"``) in a subprocess.

    The server listens on a free port of 127.0.0.1 until the block ends, then
    is stopped::

        with live_server("myapp:create_app", env={"DATABASE_URL": url}) as server:
            with Client(server.url) as client:
                assert client.get("/echo").status_code == 200

    :param async_mode: ``threading``, ``gevent`` or ``eventlet``; the last two
        monkey-patch the subprocess, never the caller.
    :param env: extra environment variables for the server process.
    """
    server = _start_server(target, async_mode, env, host, port)
    try:
        wait_until_listening(server, host, server.port, start_timeout)
        yield server
    finally:
        _stop_server(server)


@contextmanager
def live_servers(
    target: str,
    count: int,
    *,
    async_mode: str = "threading",
    env: Mapping[str, str] | None = None,
    host: str = "127.0.0.1",
    start_timeout: float = 30.0,
) -> Iterator[list[LiveServer]]:
    """Serve the app ``target`` in ``count`` subprocesses started at once: a cluster.

    Give them one ``SOCKPUB_MESSAGE_QUEUE`` (through ``env`` and the app's
    config) and they behave as one app; the options are :func:`live_server`'s::

        env = {"FLASK_SOCKPUB_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0"}
        with live_servers("myapp:create_app", 3, env=env) as (a, b, c):
            ...
    """
    servers: list[LiveServer] = []
    try:
        for _ in range(count):
            servers.append(_start_server(target, async_mode, env, host, None))
        for server in servers:
            wait_until_listening(server, host, server.port, start_timeout)
        yield servers
    finally:
        for server in servers:
            _stop_server(server)


def _start_server(
    target: str,
    async_mode: str,
    env: Mapping[str, str] | None,
    host: str,
    port: int | None,
) -> LiveServer:
    port = port or free_port(host)
    child_env = dict(os.environ)
    child_env["PYTHONPATH"] = os.pathsep.join(
        [os.getcwd(), *filter(None, [child_env.get("PYTHONPATH")])]
    )
    child_env.update(env or {})
    command = [
        sys.executable, "-m", "flask_sockpub", "run", target,
        "--host", host, "--port", str(port), "--async-mode", async_mode,
    ]  # fmt: skip
    log_file = tempfile.NamedTemporaryFile(prefix="sockpub-server-", suffix=".log")
    process = subprocess.Popen(command, env=child_env, stdout=log_file, stderr=subprocess.STDOUT)
    return LiveServer(f"http://{host}:{port}", process, log_file)


def _stop_server(server: LiveServer) -> None:
    stop_process(server.process)
    server.log_file.close()


class Watched(Protocol):
    """A server in a subprocess, as :func:`wait_until_listening` watches it."""

    def check_alive(self) -> None:
        """Raise, with what the server printed, if it has exited."""

    def log(self) -> str:
        """What the server printed so far."""


def wait_until_listening(server: Watched, host: str, port: int, timeout: float) -> None:
    """Return once ``host:port`` accepts connections; raise, with the server's log, after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.check_alive()
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(
        f"the server did not listen on {host}:{port} within {timeout} s:\n{server.log()}"
    )


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """Terminate ``process``, then kill it if it is still there after ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


class Inbox:
    """Collects the events a :class:`~flask_sockpub.client.Client` receives.

    For assertions with bounded waits instead of sleeps::

        inbox = Inbox(client, "message")
        other_client.post("/user", {"name": "Randy"})
        [created] = inbox.wait(1)
        assert created.data["verb"] == "create"
    """

    def __init__(self, client: Any, *events: str) -> None:
        self.items: list[Received] = []
        self._changed = threading.Condition()
        for event in events or ("message",):
            client.on(event, partial(self._add, event))

    def _add(self, event: str, *args: Any) -> None:
        with self._changed:
            self.items.append(Received(event, args[0] if args else None))
            self._changed.notify_all()

    def wait(self, count: int = 1, timeout: float = 5.0) -> list[Received]:
        """Wait until at least ``count`` events arrived; return them all.

        :raises TimeoutError: fewer arrived within ``timeout`` seconds.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.items) >= count, timeout):
                raise TimeoutError(
                    f"{len(self.items)} of {count} events arrived within {timeout} s: {self.items}"
                )
            return list(self.items)

    def wait_for(self, wanted: Callable[[Received], bool], timeout: float = 5.0) -> Received:
        """Wait until an event that is ``wanted`` arrived; return the first such event.

        For sockets that hear other tests' events too::

            left = inbox.wait_for(lambda item: item.data.get("left") == sid)

        :raises TimeoutError: none arrived within ``timeout`` seconds.
        """
        with self._changed:
            if not self._changed.wait_for(
                lambda: any(wanted(item) for item in self.items), timeout
            ):
                raise TimeoutError(f"no wanted event arrived within {timeout} s: {self.items}")
            return next(item for item in self.items if wanted(item))

    def until(self, wanted: Callable[[Received], bool], timeout: float = 5.0) -> list[Received]:
        """Wait until an event that is ``wanted`` arrived; return every event up to it, it included.

        For checking that an event did *not* come, without sleeping: after the
        action, make the server send this socket an event it must receive;
        what one socket is sent arrives in order, so an unwanted event would
        be there before it::

            first.post("/rooms/quiet/broadcast", {"text": "not to me", "include_self": False})
            first.post("/rooms/quiet/broadcast", {"text": "to all"})
            arrived = inbox.until(lambda item: item.data["text"] == "to all")
            assert [item.data["text"] for item in arrived] == ["to all"]

        :raises TimeoutError: none arrived within ``timeout`` seconds.
        """
        first = self.wait_for(wanted, timeout)
        with self._changed:
            return self.items[: self.items.index(first) + 1]

    def quiet(self, period: float = 0.3) -> list[Received]:
        """Wait ``period`` seconds and return what arrived: for checking that nothing more comes.

        A sleep proves little on a busy machine: prefer :meth:`until`.
        """
        time.sleep(period)
        with self._changed:
            return list(self.items)
