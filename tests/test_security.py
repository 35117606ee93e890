"""Security defaults: allowed origins, WebSocket compression, eventlet's limits, HTTP body size, no Server header."""

from __future__ import annotations

import base64
import json
import os
import selectors
import signal
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest
from flask import Flask, request

from flask_sockpub import SockPub, config
from flask_sockpub.client import Client
from flask_sockpub.serving.origins import origin_policy
from flask_sockpub.testing import LiveServer, live_server
from tests.hidden_modules import without_gevent_websocket
from tests.raw_socket import RawSocket, Refused

PIPELINE = "tests.apps.pipeline:create_app"
ALLOWED = "http://allowed.example"
FOREIGN = "http://evil.example"
#: The pipeline app with compression on, one more allowed origin, and one
#: reverse proxy declared in front of it.
CONFIGURED = {
    "SOCKPUB_TEST_SOCKPUB_WEBSOCKET_COMPRESSION": "true",
    "SOCKPUB_TEST_SOCKPUB_CORS_ALLOWED_ORIGINS": json.dumps([ALLOWED]),
    "SOCKPUB_TEST_SOCKPUB_TRUSTED_PROXIES": "1",
}
#: The message SockPub logs at startup when compression is on but gevent-websocket serves WebSockets.
GEVENT_WEBSOCKET_WARNING = (
    "SOCKPUB_WEBSOCKET_COMPRESSION is on, but under gevent Flask-SocketIO serves WebSockets "
    "with gevent-websocket, which never compresses"
)

ServerFactory = Callable[[str, bool], LiveServer]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    """``servers(variant, configured)``: the pipeline app served, started once per module.

    The variant is an async mode; ``gevent+simple-websocket`` is gevent with
    gevent-websocket hidden (plain ``gevent`` serves WebSockets with it: the
    test extras install it).
    """
    started: dict[tuple[str, bool], LiveServer] = {}
    with ExitStack() as stack:

        def server(variant: str, configured: bool) -> LiveServer:
            key = (variant, configured)
            if key not in started:
                async_mode, _, websocket = variant.partition("+")
                env = dict(CONFIGURED) if configured else {}
                if websocket == "simple-websocket":
                    hidden = without_gevent_websocket(
                        tmp_path_factory.mktemp("without-gevent-websocket")
                    )
                    env["PYTHONPATH"] = os.pathsep.join([hidden, os.getcwd()])
                started[key] = stack.enter_context(
                    live_server(PIPELINE, async_mode=async_mode, env=env)
                )
            return started[key]

        yield server


def connects(server: LiveServer, origin: str, headers: dict[str, str] | None = None) -> bool:
    """Whether a socket whose handshake says ``Origin: <origin>`` (and ``headers``) connects and is answered."""
    try:
        raw = RawSocket(server.url, origin=origin, headers=headers)
    except Refused:
        return False
    try:
        return raw.call('["get",{"url":"/echo"}]')["statusCode"] == 200  # type: ignore[no-any-return]
    finally:
        raw.close()


# Origins.


@pytest.mark.parametrize("async_mode", ["threading", "gevent"])
def test_by_default_a_same_origin_socket_connects_and_a_foreign_one_is_refused(
    servers: ServerFactory, async_mode: str
) -> None:
    server = servers(async_mode, False)
    assert connects(server, server.url)
    assert not connects(server, FOREIGN)
    assert not connects(server, ALLOWED)


@pytest.mark.parametrize("async_mode", ["threading", "gevent"])
def test_allowed_origins_connect_besides_the_same_origin_and_others_are_still_refused(
    servers: ServerFactory, async_mode: str
) -> None:
    server = servers(async_mode, True)
    assert connects(server, ALLOWED)
    assert connects(server, server.url)
    assert not connects(server, FOREIGN)


#: What a reverse proxy in front of the server adds to the handshake.
PROXIED = {"X-Forwarded-Host": "proxy.example", "X-Forwarded-Proto": "https"}


@pytest.mark.parametrize("async_mode", ["threading", "gevent"])
def test_forwarded_host_is_believed_only_behind_a_declared_proxy(
    servers: ServerFactory, async_mode: str
) -> None:
    plain, proxied = servers(async_mode, False), servers(async_mode, True)
    with Client(plain.url) as bystander:
        # Without a declared proxy, a client naming itself the server's host is refused.
        assert not connects(plain, "https://proxy.example", PROXIED)
        assert not connects(plain, FOREIGN, {"X-Forwarded-Host": "evil.example"})
        assert bystander.get("/echo", {"message": "still"}).body["message"] == "still"
    # Behind the declared proxy, the page it serves connects; others still do not.
    assert connects(proxied, "https://proxy.example", PROXIED)
    assert not connects(proxied, "https://proxy.example")
    assert not connects(proxied, FOREIGN, PROXIED)


@pytest.mark.parametrize("async_mode", ["threading", "gevent"])
def test_behind_a_proxy_the_forwarded_scheme_and_host_are_the_servers_own_origin(
    servers: ServerFactory, async_mode: str
) -> None:
    server = servers(async_mode, True)  # one proxy declared
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example"}
    assert connects(server, "https://public.example", proxy)
    assert connects(server, server.url, proxy)
    assert not connects(server, "https://other.example", proxy)
    assert not connects(server, "https://public.example")


#: What a chain of two proxies forwards: each appends what it saw, so the
#: first value is what the outer proxy saw, the last what the inner one saw.
TWO_PROXIES = {
    "HTTP_X_FORWARDED_PROTO": "https, http",
    "HTTP_X_FORWARDED_HOST": "b.example, c.example",
}


@pytest.mark.parametrize(
    ("proxies", "forwarded", "origin", "allowed"),
    [
        (1, {"HTTP_X_FORWARDED_PROTO": "https"}, "https://a.example", True),
        (1, {"HTTP_X_FORWARDED_HOST": "b.example"}, "http://b.example", True),
        (2, TWO_PROXIES, "https://b.example", True),
        (2, TWO_PROXIES, "http://c.example", False),
        (1, TWO_PROXIES, "http://c.example", True),
        (1, TWO_PROXIES, "https://b.example", False),
        (1, {"HTTP_X_FORWARDED_HOST": "b.example"}, "https://b.example", False),
        (0, {"HTTP_X_FORWARDED_HOST": "b.example"}, "http://b.example", False),
    ],
)
def test_origin_policy_takes_the_forwarded_scheme_and_host_of_the_declared_proxies(
    proxies: int, forwarded: dict[str, str], origin: str, allowed: bool
) -> None:
    app = Flask(__name__)
    app.config["SOCKPUB_TRUSTED_PROXIES"] = proxies
    policy = origin_policy(None)
    assert callable(policy)
    environ = {"HTTP_HOST": "a.example", "wsgi.url_scheme": "http", "flask.app": app, **forwarded}
    assert policy(origin, environ) is allowed


@pytest.mark.parametrize(
    ("setting", "origin", "host", "allowed"),
    [
        (None, "http://a.example", "a.example", True),
        (None, "https://a.example", "a.example", False),
        (None, "http://b.example", "a.example", False),
        ([], "http://b.example", "a.example", False),
        ("http://b.example/", "http://b.example", "a.example", True),
        (["http://b.example"], "http://a.example", "a.example", True),
        (["http://b.example"], "http://c.example", "a.example", False),
        (None, None, "a.example", True),
    ],
)
def test_origin_policy_allows_the_servers_own_origin_and_the_listed_ones(
    setting: object, origin: str | None, host: str, allowed: bool
) -> None:
    policy = origin_policy(setting)  # type: ignore[arg-type]
    assert callable(policy)
    assert policy(origin, {"HTTP_HOST": host, "wsgi.url_scheme": "http"}) is allowed


@pytest.mark.parametrize("setting", ["*", ["http://b.example", "*"]])
def test_origin_policy_star_allows_every_origin(setting: object) -> None:
    assert origin_policy(setting) == "*"  # type: ignore[arg-type]


def test_origin_policy_refuses_settings_of_the_wrong_type() -> None:
    with pytest.raises(TypeError, match="SOCKPUB_CORS_ALLOWED_ORIGINS"):
        origin_policy(7)  # type: ignore[arg-type]


# Per-message compression, seen in the WebSocket handshake itself.


def websocket_upgrade(server: LiveServer) -> tuple[str, dict[str, str]]:
    """Open a WebSocket offering permessage-deflate, as browsers do; the response's status line and headers."""
    key = base64.b64encode(os.urandom(16)).decode()
    return http_answer(
        server,
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
    )


def http_answer(server: LiveServer, request_text: str) -> tuple[str, dict[str, str]]:
    """Send ``request_text`` as is; the answer's status line and headers (names in lower case)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(request_text.encode())
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(4096)
            if not chunk:
                break
            received += chunk
    status, *lines = received.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


# Plain gevent is left out: gevent-websocket never compresses, declined or not.
@pytest.mark.parametrize("variant", ["threading", "gevent+simple-websocket", "eventlet"])
def test_compression_is_declined_by_default(servers: ServerFactory, variant: str) -> None:
    status, headers = websocket_upgrade(servers(variant, False))
    assert status.split()[1] == "101"
    assert "sec-websocket-extensions" not in headers


@pytest.mark.parametrize("variant", ["threading", "gevent+simple-websocket", "eventlet"])
def test_compression_is_accepted_when_configured(servers: ServerFactory, variant: str) -> None:
    status, headers = websocket_upgrade(servers(variant, True))
    assert status.split()[1] == "101"
    assert headers["sec-websocket-extensions"].startswith("permessage-deflate")


def test_under_gevent_websocket_compression_is_declined_and_sockpub_says_why(
    servers: ServerFactory,
) -> None:
    # Documented: gevent-websocket never compresses, and SockPub says so at startup.
    server = servers("gevent", True)
    status, headers = websocket_upgrade(server)
    assert status.split()[1] == "101"
    assert "sec-websocket-extensions" not in headers
    assert GEVENT_WEBSOCKET_WARNING in server.log()


# No answer names the server's software and versions.

#: Requests answered by each part of the server: a view, a 404, the SDK route,
#: engine.io's polling handshake, the WebSocket upgrade, and the HTTP server's
#: own refusal of too many headers.
PLAIN_REQUESTS = {
    "view": "GET /echo?message=hi HTTP/1.1\r\nHost: {host}\r\n\r\n",
    "not found": "GET /no/such/page HTTP/1.1\r\nHost: {host}\r\n\r\n",
    "sdk": "GET /sockpub/sockpub.js HTTP/1.1\r\nHost: {host}\r\n\r\n",
    "polling": "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: {host}\r\n\r\n",
    "too many headers": "GET /echo HTTP/1.1\r\nHost: {host}\r\n" + "X-Filler: x\r\n" * 200 + "\r\n",
}


@pytest.mark.parametrize("async_mode", ["threading", "gevent", "eventlet"])
def test_no_answer_carries_a_server_header(servers: ServerFactory, async_mode: str) -> None:
    server = servers(async_mode, False)
    with Client(server.url) as bystander:
        answers = {
            name: http_answer(server, text.format(host=f"127.0.0.1:{server.port}"))
            for name, text in PLAIN_REQUESTS.items()
        }
        answers["websocket"] = websocket_upgrade(server)
        statuses = {name: status.split()[1] for name, (status, _) in answers.items()}
        # gevent refuses too many headers with a 400, the others with a 431.
        assert statuses.pop("too many headers") in ("400", "431")
        assert statuses == {
            "view": "200", "not found": "404", "sdk": "200", "polling": "200", "websocket": "101",
        }  # fmt: skip
        assert {
            name: headers.get("server") for name, (_, headers) in answers.items()
        } == dict.fromkeys(answers)
        jwr = bystander.emit("get", {"method": "GET", "url": "/echo?message=hi"})
        assert jwr["statusCode"] == 200 and jwr["body"]["message"] == "hi"
        assert "server" not in {name.lower() for name in jwr["headers"]}


# eventlet's listen backlog and connection cap.


#: eventlet's own listen backlog and connection cap, which SockPub raises.
EVENTLET_DEFAULT_BACKLOG = 50
EVENTLET_DEFAULT_MAX_SIZE = 1024
#: The kernel's cap on any listen backlog.
SOMAXCONN = "/proc/sys/net/core/somaxconn"


def echo_answers(server: LiveServer, timeout: float) -> bool:
    """Whether an HTTP ``GET /echo`` is answered 200 within ``timeout`` seconds."""
    try:
        with urllib.request.urlopen(f"{server.url}/echo", timeout=timeout) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def open_connections(server: LiveServer, count: int) -> Iterator[list[socket.socket]]:
    """``count`` TCP connections to ``server`` connecting without blocking; all closed afterwards."""
    connections: list[socket.socket] = []
    try:
        for _ in range(count):
            connection = socket.socket()
            connection.setblocking(False)
            connections.append(connection)
            connection.connect_ex(("127.0.0.1", server.port))
        yield connections
    finally:
        for connection in connections:
            connection.close()


def connected_within(connections: list[socket.socket], timeout: float) -> int:
    """How many of ``connections`` have finished connecting within ``timeout`` seconds."""
    connected = 0
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as waiting:
        for connection in connections:
            waiting.register(connection, selectors.EVENT_WRITE)
        while connected < len(connections) and time.monotonic() < deadline:
            for key, _ in waiting.select(timeout=min(0.5, deadline - time.monotonic())):
                waiting.unregister(key.fileobj)
                connection = key.fileobj
                assert isinstance(connection, socket.socket)
                if connection.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    connected += 1
    return connected


def test_eventlet_queues_more_connections_than_its_default_backlog_while_busy(
    servers: ServerFactory,
) -> None:
    server = servers("eventlet", False)
    # Stopped, the server accepts nothing: the kernel completes handshakes
    # until the listen backlog is full, then drops the rest.
    with open(SOMAXCONN) as limit:
        count = min(200, int(limit.read()))
    assert count > EVENTLET_DEFAULT_BACKLOG + 1
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        with open_connections(server, count) as connections:
            assert connected_within(connections, timeout=10) == count
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    assert echo_answers(server, timeout=10)


def test_eventlet_serves_more_connections_at_once_than_its_default_cap(
    servers: ServerFactory,
) -> None:
    server = servers("eventlet", False)
    # Idle connections each hold one of the server's green threads; past its
    # cap, eventlet stops accepting until one goes.
    count = EVENTLET_DEFAULT_MAX_SIZE + 50
    with open_connections(server, count) as connections:
        assert connected_within(connections, timeout=10) == count
        assert echo_answers(server, timeout=20)


# HTTP bodies.


def upload_app(**settings: object) -> Flask:
    app = Flask(__name__)
    app.config.update(settings)
    SockPub(app)

    @app.post("/upload")
    def upload() -> dict[str, int]:
        return {"size": len(request.get_data())}

    return app


def test_http_bodies_are_limited_when_the_app_sets_no_max_content_length() -> None:
    app = upload_app()
    assert app.config["MAX_CONTENT_LENGTH"] == config.DEFAULT_MAX_CONTENT_LENGTH
    client = app.test_client()
    assert client.post("/upload", data=b"x" * 1024).get_json() == {"size": 1024}
    assert (
        client.post("/upload", data=b"x" * (config.DEFAULT_MAX_CONTENT_LENGTH + 1)).status_code
        == 413
    )


def test_an_apps_own_max_content_length_is_kept() -> None:
    app = upload_app(MAX_CONTENT_LENGTH=10)
    client = app.test_client()
    assert client.post("/upload", data=b"x" * 10).status_code == 200
    assert client.post("/upload", data=b"x" * 11).status_code == 413
