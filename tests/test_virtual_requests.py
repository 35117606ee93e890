"""Socket requests go through the whole Flask pipeline, as HTTP requests do.

Each test runs twice: through the test client (no network) and over a real
server with the python-socketio client.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask_socketio import Namespace
from werkzeug.exceptions import Forbidden, InternalServerError

from flask_sockpub import SockPub


def test_before_request_puts_a_value_in_g_that_reaches_the_view(socket: Any) -> None:
    assert socket.get("/g").body == {"started_by": "before_request"}


def test_after_request_header_is_in_the_jwr(socket: Any) -> None:
    assert socket.get("/echo").headers["X-After-Request"] == "yes"


def test_teardown_request_side_effect_is_visible_to_the_next_request(socket: Any) -> None:
    socket.get("/echo", {"message": "marker"})
    assert "/echo" in socket.get("/teardowns").body["paths"]


def test_custom_404_handler_body_comes_back(socket: Any) -> None:
    response = socket.get("/no/such/page")
    assert response.status_code == 404
    assert response.body == {"error": "custom not found", "path": "/no/such/page"}


def test_abort_403_gives_403_with_a_json_error(socket: Any) -> None:
    response = socket.get("/forbidden")
    assert response.status_code == 403
    assert response.body == {"error": Forbidden.description}


def test_redirect_gives_302_and_location(socket: Any) -> None:
    response = socket.get("/redirect")
    assert response.status_code == 302
    assert response.headers["Location"] == "/echo?message=redirected"


def test_text_response_comes_back_as_text(socket: Any) -> None:
    response = socket.get("/text")
    assert response.body == "plain text"
    assert response.headers["Content-Type"].startswith("text/plain")


def test_get_data_reaches_request_args_nested_as_spec_says(socket: Any) -> None:
    data = {"a": 1, "b": [1, 2], "c": {"x": 1}, "d": None, "e": True, "f": "é&="}
    assert socket.get("/args?z=0", data).body["args"] == {
        "z": ["0"], "a": ["1"], "b": ["1", "2"], "c": ['{"x":1}'], "e": ["true"], "f": ["é&="],
    }  # fmt: skip


def test_post_data_reaches_get_json_and_param(socket: Any) -> None:
    assert socket.post("/json", {"name": "Randy", "tags": [1, 2]}).body == {
        "json": {"name": "Randy", "tags": [1, 2]},
        "param": "Randy",
    }


def test_post_array_is_a_json_body(socket: Any) -> None:
    assert socket.post("/json", [1, 2, 3]).body["json"] == [1, 2, 3]


def test_param_finds_query_body_and_url_rule_values(socket: Any) -> None:
    assert socket.get("/echo", {"message": "from query"}).body["message"] == "from query"
    assert socket.post("/echo", {"message": "from body"}).body["message"] == "from body"
    assert socket.get("/items/7").body == {"item_id": 7, "param": 7}


def test_payload_headers_reach_the_view_but_cannot_replace_origin_cookie_host(socket: Any) -> None:
    plain = socket.get("/headers").body
    forged = socket.get(
        "/headers",
        headers={
            "X-Custom": "yes",
            "Origin": "http://evil.example",
            "Cookie": "session=stolen",
            "Host": "evil.example",
        },
    ).body
    assert forged["x_custom"] == "yes"
    assert (forged["origin"], forged["cookie"], forged["host"]) == (
        plain["origin"],
        plain["cookie"],
        plain["host"],
    )
    assert forged["accept"] == "application/json"


def test_v09_string_payload_is_answered_with_the_body_alone(socket: Any) -> None:
    answer = socket.emit("get", '{"url": "/echo", "data": {"message": "legacy"}}')
    assert answer == '{"message":"legacy","success":true}'


def test_v09_string_form_takes_params_and_gets_its_errors_as_body_text(socket: Any) -> None:
    answer = socket.emit("get", '{"url": "/echo", "params": {"message": "params"}}')
    assert answer == '{"message":"params","success":true}'
    unknown = socket.emit("subscribe", '{"url": "/echo"}')
    assert isinstance(unknown, str) and "unknown event 'subscribe'" in json.loads(unknown)["error"]


def test_v09_message_event_is_a_request_answered_with_the_body_alone(socket: Any) -> None:
    # A client's send(): an object payload is a GET, a JSON string says its method or verb.
    sent = socket.emit("message", {"url": "/echo", "data": {"message": "sent"}})
    assert sent == '{"message":"sent","success":true}'
    posted = socket.emit("message", '{"url": "/json", "verb": "post", "params": {"name": "n"}}')
    assert json.loads(posted) == {"json": {"name": "n"}, "param": "n"}
    put = socket.emit("message", '{"url": "/json", "method": "PUT", "data": [1]}')
    assert json.loads(put)["json"] == [1]
    refused = socket.emit("message", '{"url": "/json", "verb": "fetch"}')
    assert "'fetch' is not one of get, post" in json.loads(refused)["error"]


def test_an_absolute_url_naming_the_sockets_own_host_is_a_request_to_this_app(
    socket: Any,
) -> None:
    host = socket.get("/headers").body["host"]
    answer = socket.get(f"http://{host}/echo?message=absolute")
    assert (answer.status_code, answer.body["message"]) == (200, "absolute")
    elsewhere = socket.get("http://elsewhere.example/echo")
    assert elsewhere.status_code == 400 and "must be a path on this server" in elsewhere.error


def test_an_apps_own_message_handler_keeps_the_message_event() -> None:
    app = Flask(__name__)
    sockpub = SockPub(app)

    @sockpub.socketio.on("message")
    def own(data: Any) -> str:
        return f"own handler: {data['url']}"

    client = sockpub.test_client(app)
    assert client.emit("message", {"url": "/echo"}) == "own handler: /echo"
    client.disconnect()


def test_an_apps_catch_all_handler_keeps_the_message_event() -> None:
    app = Flask(__name__)
    sockpub = SockPub(app)

    @sockpub.socketio.on("*")
    def every(event: str, data: Any) -> str:
        return f"catch-all: {event}"

    client = sockpub.test_client(app)
    assert client.emit("message", {"url": "/echo"}) == "catch-all: message"
    client.disconnect()


def test_an_apps_own_namespace_keeps_the_message_event() -> None:
    app = Flask(__name__)
    sockpub = SockPub(app)

    class Chat(Namespace):
        def on_message(self, data: Any) -> str:
            return f"namespace: {data}"

    sockpub.socketio.on_namespace(Chat("/"))
    client = sockpub.test_client(app)
    assert client.emit("message", "hello") == "namespace: hello"
    assert client.get("/no-such-page").status_code == 404
    client.disconnect()


def test_current_socket_id_is_the_requesting_socket(socket: Any) -> None:
    assert socket.get("/whoami").body == {"socket": socket.sid}


def test_method_event_names_are_case_insensitive(socket: Any) -> None:
    jwr = socket.emit("GET", {"method": "GET", "url": "/echo?message=upper"})
    assert jwr["statusCode"] == 200 and jwr["body"]["message"] == "upper"


def test_view_exception_gets_the_apps_500_handling(socket: Any) -> None:
    response = socket.get("/boom")
    assert response.status_code == 500
    assert response.body == {"error": InternalServerError.description}
    assert socket.get("/echo").status_code == 200
