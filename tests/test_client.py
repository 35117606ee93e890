"""The Python client against a real server (tests/apps/clients.py under gevent)."""

from __future__ import annotations

import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.exceptions import Forbidden

from flask_sockpub.client import Client, ConnectionRefused, Disconnected, RequestTimeout
from flask_sockpub.testing import Inbox, LiveServer, free_port


@pytest.fixture(scope="module")
def client(clients_server: LiveServer) -> Iterator[Client]:
    """One socket shared by the tests that need no socket of their own."""
    with Client(clients_server.url) as shared:
        yield shared


def unique_room() -> str:
    return f"room-{uuid.uuid4().hex}"


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_each_method_reaches_the_view_with_its_data(client: Client, method: str) -> None:
    response = getattr(client, method)("/methods/users", {"name": "Randy"})
    assert response.status_code == 200
    assert response.body["method"] == method.upper()
    if method in ("post", "put", "patch"):
        assert (response.body["json"], response.body["args"]) == ({"name": "Randy"}, {})
    else:
        assert (response.body["json"], response.body["args"]) == (None, {"name": "Randy"})


def test_request_takes_any_method_and_answers_with_status_body_and_headers(client: Client) -> None:
    response = client.request("post", "/methods/users?status=201", {"name": "Amanda"})
    assert response.status_code == 201
    assert response.ok
    assert response.body["json"] == {"name": "Amanda"}
    assert response.headers["Content-Type"] == "application/json"


def test_error_status_comes_back_as_a_response_not_an_exception(client: Client) -> None:
    response = client.get("/forbidden")
    assert (response.status_code, response.ok) == (403, False)
    assert response.error == Forbidden.description


def test_per_request_headers_reach_the_view(client: Client) -> None:
    assert (
        client.get("/headers", headers={"X-Custom": "per request"}).body["x_custom"]
        == "per request"
    )


def test_handshake_headers_and_cookies_reach_every_request(clients_server: LiveServer) -> None:
    with Client(
        clients_server.url, headers={"X-Custom": "handshake"}, cookies={"a": "1", "b": "two"}
    ) as client:
        for _ in range(2):
            seen = client.get("/headers").body
            assert seen["x_custom"] == "handshake"
            assert seen["cookie"] == "a=1; b=two"


def test_cookies_make_the_http_session_the_session_of_socket_requests(
    clients_server: LiveServer,
) -> None:
    http_request = urllib.request.Request(
        f"{clients_server.url}/session?value=from-http", method="POST"
    )
    with urllib.request.urlopen(http_request, timeout=5) as response:
        name, _, value = response.headers["Set-Cookie"].partition(";")[0].partition("=")
    with Client(clients_server.url, cookies={name: value}) as client:
        assert client.get("/session").body == {"value": "from-http"}


def test_on_calls_the_handler_with_each_event(clients_server: LiveServer, client: Client) -> None:
    room = unique_room()
    received: list[Any] = []
    arrived = threading.Event()

    def remember(message: Any) -> None:
        received.append(message)
        if len([seen for seen in received if seen.get("room") == room]) == 2:
            arrived.set()

    client.on("message", remember)
    client.post(f"/rooms/{room}/listen")
    client.post(f"/rooms/{room}/broadcast", {"text": "one"})
    client.post(f"/rooms/{room}/broadcast", {"text": "two"})
    assert arrived.wait(5)
    assert [message for message in received if message.get("room") == room] == [
        {"room": room, "text": "one"},
        {"room": room, "text": "two"},
    ]


def test_on_works_as_a_decorator(clients_server: LiveServer) -> None:
    arrived = threading.Event()
    room = unique_room()
    with Client(clients_server.url) as client:

        @client.on("message")
        def remember(message: Any) -> None:
            if message == {"room": room, "text": "decorated"}:
                arrived.set()

        client.post(f"/rooms/{room}/listen")
        client.post(f"/rooms/{room}/broadcast", {"text": "decorated"})
        assert arrived.wait(5)


def test_with_block_closes_the_socket_and_the_server_sees_it_leave(
    clients_server: LiveServer, client: Client
) -> None:
    inbox = Inbox(client)
    client.post("/rooms/presence/listen")
    with Client(clients_server.url) as leaving:
        sid = leaving.sid
        assert leaving.connected
    assert not leaving.connected
    gone = inbox.wait_for(lambda item: item.data.get("left") == sid)
    assert gone.data["reason"]


def test_request_slower_than_its_timeout_raises_request_timeout(client: Client) -> None:
    with pytest.raises(RequestTimeout, match=r"no answer to GET /slow within 0.2 s"):
        client.get("/slow", {"seconds": 1}, timeout=0.2)
    assert client.get("/echo", {"message": "still here"}).body["message"] == "still here"


def test_client_timeout_applies_to_requests_that_give_none(clients_server: LiveServer) -> None:
    with Client(clients_server.url, timeout=0.2) as client:
        with pytest.raises(RequestTimeout):
            client.get("/slow", {"seconds": 1})
        assert client.get("/slow", {"seconds": 0}, timeout=5).body == {"slept": 0.0}


def test_request_timeout_is_a_timeout_error(client: Client) -> None:
    with pytest.raises(TimeoutError):
        client.get("/slow", {"seconds": 1}, timeout=0.1)


def test_request_on_a_closed_client_raises_disconnected(clients_server: LiveServer) -> None:
    client = Client(clients_server.url)
    client.close()
    with pytest.raises(Disconnected, match="not connected"):
        client.get("/echo")


def test_request_in_flight_when_the_server_disconnects_raises_disconnected(
    clients_server: LiveServer,
) -> None:
    reasons: list[Any] = []
    with Client(clients_server.url) as client:
        client.on("disconnect", reasons.append)
        with pytest.raises(Disconnected, match="disconnected"):
            client.post("/kick")
        assert not client.connected
    assert reasons == ["server disconnect"]


def test_request_in_flight_when_the_client_closes_raises_disconnected(
    clients_server: LiveServer,
) -> None:
    client = Client(clients_server.url)
    closer = threading.Timer(0.3, client.close)
    closer.start()
    try:
        with pytest.raises(Disconnected):
            client.get("/slow", {"seconds": 5})
    finally:
        closer.join()


def test_a_port_nobody_listens_on_raises_connection_refused() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ConnectionRefused, match=f"could not connect to {url}") as refused:
        Client(url, timeout=2)
    assert "Connection refused" in str(refused.value)


@pytest.mark.parametrize("transports", [("websocket",), ("polling", "websocket")])
def test_an_origin_header_is_sent_once_and_same_origin_connects(
    clients_server: LiveServer, transports: tuple[str, ...]
) -> None:
    with Client(
        clients_server.url, headers={"Origin": clients_server.url}, transports=transports
    ) as own:
        assert own.sio.transport() == "websocket"
        assert own.get("/headers").body["origin"] == clients_server.url


def test_a_refused_origin_says_why(clients_server: LiveServer) -> None:
    with pytest.raises(ConnectionRefused) as refused:
        Client(clients_server.url, headers={"Origin": "https://elsewhere.example"}, timeout=5)
    assert str(refused.value) == (
        f"could not connect to {clients_server.url}: the server answered 400: "
        "Not an accepted origin."
    )


def test_emit_returns_the_acknowledgement(client: Client) -> None:
    jwr = client.emit("get", {"method": "GET", "url": "/echo?message=raw"})
    assert jwr["statusCode"] == 200 and jwr["body"]["message"] == "raw"


def test_polling_transport_works_and_closes_cleanly(
    clients_server: LiveServer, client: Client
) -> None:
    inbox = Inbox(client)
    client.post("/rooms/presence/listen")
    for _ in range(3):
        with Client(clients_server.url, transports=("polling",)) as polling:
            assert polling.get("/echo", {"message": "polled"}).body["message"] == "polled"
            assert polling.sio.transport() == "polling"
            sid = polling.sid
        # The server hears the socket leave at once, not at its next ping.
        left = inbox.wait_for(lambda item: item.data.get("left") == sid, timeout=5)
        assert left.data["reason"] == "client disconnect"


def test_one_client_can_be_shared_by_threads(client: Client) -> None:
    answers: dict[str, Any] = {}

    def ask(thread: int) -> None:
        for number in range(10):
            message = f"{thread}-{number}"
            answers[message] = client.get("/echo", {"message": message}).body["message"]

    threads = [threading.Thread(target=ask, args=(thread,)) for thread in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 40
    assert all(question == answer for question, answer in answers.items())


def test_a_normal_close_logs_no_bad_request_under_the_threading_server(
    pipeline_server: LiveServer,
) -> None:
    before = pipeline_server.log()
    with Client(pipeline_server.url) as client:
        assert client.get("/echo", {"message": "bye"}).status_code == 200

    def websocket_requests_ended() -> int:
        log = pipeline_server.log()[len(before) :]
        return log.count("GET /socket.io/?transport=websocket")

    # The WebSocket's own HTTP request ends in the log once the close is done
    # (a hang guard, not a timing: it is logged within milliseconds).
    deadline = time.monotonic() + 10
    while not websocket_requests_ended() and time.monotonic() < deadline:
        time.sleep(0.02)
    log = pipeline_server.log()[len(before) :]
    assert "GET /socket.io/?transport=websocket" in log
    assert "HTTP/0.9" not in log
    assert "Bad request" not in log
