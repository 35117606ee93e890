"""What a socket answer carries and leaves out, and whom ``current_socket.emit`` reaches.

Tests taking the ``socket`` fixture run twice: through the test client (no
network) and over a real server with the python-socketio client.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from flask_sockpub.client import Client
from flask_sockpub.testing import SocketTestClient


def test_set_cookie_is_left_out_of_a_socket_answer(socket: Any) -> None:
    # Over a socket the browser cannot store a cookie: the answer must not
    # carry one (it would hand the cookie's value to the page's script).
    response = socket.get("/cookie")
    assert response.status_code == 200
    assert response.body == {"cookie": "set"}
    assert [name for name in response.headers if name.lower() == "set-cookie"] == []
    assert response.headers["Content-Type"] == "application/json"


def test_a_head_socket_request_gets_the_get_answer_without_its_body(socket: Any) -> None:
    get = socket.get("/echo", {"message": "head"})
    head = socket.request("HEAD", "/echo", {"message": "head"})
    assert get.body == {"success": True, "message": "head"}
    assert (head.status_code, head.body) == (200, None)
    assert head.headers == get.headers


def test_a_head_answer_built_from_a_body_carries_none() -> None:
    # Werkzeug already drops the body of a HEAD response, so the JWR builder's
    # own rule is only seen when it is handed one.
    from flask_sockpub.wire.jwr import response_jwr

    headers = [("Content-Type", "application/json")]
    assert response_jwr(200, headers, b'{"a":1}', "HEAD")["body"] is None
    assert response_jwr(200, headers, b'{"a":1}', "GET")["body"] == {"a": 1}


def test_the_client_address_reaches_the_view_of_a_socket_request(real_socket: Client) -> None:
    assert real_socket.get("/headers").body["remote_addr"] == "127.0.0.1"


def test_current_socket_emit_reaches_the_requesting_socket_alone(app: Flask) -> None:
    sockpub = app.extensions["sockpub"].sockpub
    first: SocketTestClient = sockpub.test_client(app)
    second: SocketTestClient = sockpub.test_client(app)
    try:
        first.received(), second.received()  # whatever came with the connection
        assert first.post("/whisper", {"text": "psst"}).body == {"sent": True}
        # The test client delivers emits before the request that made them returns.
        assert first.received("whisper") == [("whisper", {"text": "psst"})]
        assert second.received() == []
    finally:
        first.disconnect()
        second.disconnect()
