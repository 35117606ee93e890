"""Sessions over sockets: cookie sessions kept per socket, server-side sessions shared with HTTP.

Real servers (gevent, whose sockets close at once), the Python client for
sockets and ``requests`` for HTTP, as a browser page and its socket would.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests
from werkzeug.exceptions import Unauthorized

from flask_sockpub.client import Client
from flask_sockpub.testing import LiveServer, live_server
from flask_sockpub.wire.jwr import Response

APP = "tests.apps.sessions:create_app"
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def cookie_server() -> Iterator[LiveServer]:
    """The sessions app with Flask's cookie sessions."""
    with live_server(APP, async_mode="gevent") as server:
        yield server


@pytest.fixture(scope="module")
def redis_server() -> Iterator[LiveServer]:
    """The sessions app with Flask-Session keeping sessions in Redis, under a prefix of its own."""
    prefix = f"sockpub-test-{uuid.uuid4().hex}:"
    env = {
        "SOCKPUB_TEST_SESSION_TYPE": "redis",
        "SOCKPUB_TEST_SESSION_KEY_PREFIX": prefix,
        "SOCKPUB_TEST_REDIS_URL": REDIS_URL,
    }
    try:
        with live_server(APP, async_mode="gevent", env=env) as server:
            yield server
    finally:
        store = redis.Redis.from_url(REDIS_URL)
        keys = list(store.scan_iter(match=f"{prefix}*"))
        if keys:
            store.delete(*keys)
        store.close()


def browser(server: LiveServer) -> requests.Session:
    """An HTTP client keeping cookies, like the browser page that opens the socket."""
    http = requests.Session()
    http.get(f"{server.url}/me", timeout=5).raise_for_status()
    return http


def http_call(
    http: requests.Session, server: LiveServer, method: str, path: str, **data: Any
) -> Any:
    response = http.request(method, f"{server.url}{path}", json=data or None, timeout=5)
    response.raise_for_status()
    return response.json()


def socket_of(http: requests.Session, server: LiveServer) -> Client:
    """A socket opened by the page of ``http``: its handshake carries the page's cookies."""
    return Client(server.url, cookies=http.cookies.get_dict())


def user_of(socket: Client) -> Any:
    return socket.get("/me").body["user"]


# Cookie sessions: each socket keeps its own session.


def test_login_over_a_socket_is_seen_by_its_next_request_and_plain_handler_not_by_another_socket(
    cookie_server: LiveServer,
) -> None:
    with Client(cookie_server.url) as ada, Client(cookie_server.url) as other:
        assert ada.post("/login", {"name": "ada"}).body == {"user": "ada"}
        assert user_of(ada) == "ada"
        assert ada.emit("whoami")["user"] == "ada"
        assert user_of(other) is None
        assert other.emit("whoami")["user"] is None


def test_a_plain_handler_and_the_sockets_requests_share_one_session(
    cookie_server: LiveServer,
) -> None:
    with Client(cookie_server.url) as socket:
        assert socket.emit("set_value", "from the handler") == {"value": "from the handler"}
        assert socket.get("/session").body["value"] == "from the handler"
        socket.post("/session", {"value": "from a request"})
        assert socket.emit("whoami")["value"] == "from a request"


def test_a_socket_opened_after_an_http_login_is_logged_in(cookie_server: LiveServer) -> None:
    http = browser(cookie_server)
    http_call(http, cookie_server, "POST", "/login", name="grace")
    with socket_of(http, cookie_server) as socket:
        assert user_of(socket) == "grace"
        assert socket.emit("whoami")["user"] == "grace"
        # The socket's own changes stay with the socket: cookie sessions cannot be shared.
        socket.post("/session", {"value": "socket only"})
        assert http_call(http, cookie_server, "GET", "/session")["value"] is None


def test_logout_over_http_reaches_a_socket_when_it_reconnects(cookie_server: LiveServer) -> None:
    http = browser(cookie_server)
    http_call(http, cookie_server, "POST", "/login", name="linus")
    with socket_of(http, cookie_server) as socket:
        http_call(http, cookie_server, "POST", "/logout")
        # Documented: the open socket keeps the session it started with...
        assert user_of(socket) == "linus"
    # ...and the page's next socket (a reconnect) carries the logged-out cookie.
    with socket_of(http, cookie_server) as reconnected:
        assert user_of(reconnected) is None


def test_login_required_answers_401_to_an_anonymous_socket(cookie_server: LiveServer) -> None:
    with Client(cookie_server.url) as socket:
        response = socket.get("/private")
        assert response.status_code == 401
        assert response.body == {"error": Unauthorized.description}
        socket.post("/login", {"name": "ada"})
        assert socket.get("/private").body == {"user": "ada"}


def test_login_required_with_a_login_view_answers_a_redirect_jwr(cookie_server: LiveServer) -> None:
    with Client(cookie_server.url) as socket:
        response = socket.get("/pages/private")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login-page?next=")


def test_concurrent_requests_on_one_socket_keep_both_changes_and_the_last_writer_wins(
    cookie_server: LiveServer,
) -> None:
    token = uuid.uuid4().hex
    with Client(cookie_server.url) as socket:
        answers: list[Response] = []
        first = threading.Thread(
            target=lambda: answers.append(socket.post("/concurrent/first", {"token": token}))
        )
        first.start()
        second = socket.post("/concurrent/second", {"token": token})
        first.join(10)
        # Each request waited for the other: they really ran at the same time.
        assert second.body == {"overlapped": True}
        assert [answer.body for answer in answers] == [{"overlapped": True}]
        values = socket.get("/session").body
        assert (values["first"], values["second"], values["shared"]) == ("kept", "kept", "first")


# Server-side sessions (Flask-Session, Redis): shared with HTTP both ways.


def test_server_side_login_over_http_is_seen_by_a_socket_connected_afterwards(
    redis_server: LiveServer,
) -> None:
    http = browser(redis_server)
    http_call(http, redis_server, "POST", "/login", name="ada")
    with socket_of(http, redis_server) as socket:
        assert user_of(socket) == "ada"
        assert socket.get("/private").body == {"user": "ada"}
        assert socket.emit("whoami")["user"] == "ada"


def test_server_side_session_changes_over_a_socket_are_seen_by_http(
    redis_server: LiveServer,
) -> None:
    http = browser(redis_server)
    http_call(http, redis_server, "POST", "/session", value="from http")
    with socket_of(http, redis_server) as socket:
        assert socket.get("/session").body["value"] == "from http"
        socket.post("/session", {"value": "from a socket request"})
        assert http_call(http, redis_server, "GET", "/session")["value"] == "from a socket request"
        socket.emit("set_value", "from a plain handler")
        assert http_call(http, redis_server, "GET", "/session")["value"] == "from a plain handler"
        http_call(http, redis_server, "POST", "/session", other="from http again")
        assert socket.emit("whoami")["value"] == "from a plain handler"
        assert socket.get("/session").body["other"] == "from http again"


def test_server_side_logout_over_http_is_seen_by_an_open_socket(redis_server: LiveServer) -> None:
    http = browser(redis_server)
    http_call(http, redis_server, "POST", "/login", name="grace")
    with socket_of(http, redis_server) as socket:
        assert user_of(socket) == "grace"
        http_call(http, redis_server, "POST", "/logout")
        assert user_of(socket) is None
        assert socket.get("/private").status_code == 401


def test_server_side_socket_without_a_cookie_keeps_the_session_it_was_given(
    redis_server: LiveServer,
) -> None:
    with Client(redis_server.url) as ada, Client(redis_server.url) as other:
        ada.post("/login", {"name": "ada"})
        assert user_of(ada) == "ada"
        assert ada.emit("whoami")["user"] == "ada"
        ada.emit("set_value", "kept by the socket")
        assert ada.get("/session").body["value"] == "kept by the socket"
        assert user_of(other) is None
        assert other.emit("whoami") == {"user": None, "value": None}
