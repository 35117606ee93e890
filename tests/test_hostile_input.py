"""Hostile input: every bad packet or payload gets a 4xx answer, and the server keeps serving.

The table runs over a real server (threading), with packets written by hand on
a WebSocket so that even packets no client library would send reach the
server, and through the test client for the cases a Python client can express.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import websocket

from flask_sockpub import config
from flask_sockpub.client import Client
from flask_sockpub.testing import LiveServer, SocketTestClient
from tests.raw_socket import RawSocket

DEEP = "[" * 10_000 + "]" * 10_000


@dataclass(frozen=True)
class Case:
    """A hostile event: as Python arguments (``event``, ``args``) or as raw packet JSON."""

    name: str
    status: int
    error: str
    event: Any = "get"
    args: tuple[Any, ...] = ()
    raw: str | None = None
    #: The v0.9 (JSON string) form: answered with the ``{"error": ...}`` body alone.
    legacy: bool = False
    #: The message ends with the JSON library's own words: ``error`` is its start.
    library_words: bool = False

    @property
    def test_client(self) -> bool:
        """Whether the test client can send it: Python clients cannot send raw packets."""
        return self.raw is None

    def packet_json(self) -> str:
        return self.raw if self.raw is not None else json.dumps([self.event, *self.args])


def url(value: Any, **payload: Any) -> tuple[Any, ...]:
    return ({"method": "GET", "url": value, **payload},)


OVER_MAX_PAYLOAD = "x" * (config.MAX_PAYLOAD + 1)
PAYLOAD_SHAPE = "the payload must be an object {method, url, data, headers}, not "
NOT_A_PATH = "url must be a path on this server starting with '/', like '/user', not "
CONTROL_IN_URL = "url must not contain control characters (CR, LF, NUL...)"
BAD_JSON = "the packet is not valid JSON ("

CASES = [
    Case("payload is a number", 400, PAYLOAD_SHAPE + "a number", args=(5,)),
    Case("payload is null", 400, PAYLOAD_SHAPE + "null", args=(None,)),
    Case("payload is a list", 400, PAYLOAD_SHAPE + "an array", args=([1, 2],)),
    Case("payload is a boolean", 400, PAYLOAD_SHAPE + "a boolean", args=(True,)),
    Case("no payload", 400, "a socket request needs a payload: {method, url, data, headers}"),
    Case(
        "payload string is not JSON",
        400,
        "the payload string is not valid JSON (",
        args=('{"url": "/echo"',),
        legacy=True,
        library_words=True,
    ),  # fmt: skip
    Case("missing url", 400, "the payload has no url", args=({"method": "GET"},)),
    Case("url is a number", 400, "url must be a string, not a number", args=url(7)),
    Case(
        "url is absolute, to another host",
        400,
        "url must be a path on this server starting with '/', like '/user', or an absolute URL "
        "naming this server, not 'http://evil.example/echo'",
        args=url("http://evil.example/echo"),
    ),
    Case(
        "url is protocol-relative",
        400,
        NOT_A_PATH + "'//evil.example/echo'",
        args=url("//evil.example/echo"),
    ),
    Case("url has CRLF", 400, CONTROL_IN_URL, args=url("/echo\r\nX-Injected: yes")),
    Case("url has NUL", 400, CONTROL_IN_URL, args=url("/echo\x00.json")),
    Case(
        "url has .. segments",
        400,
        "url must not contain '..' segments",
        args=url("/static/../secret"),
    ),
    Case(
        "url has encoded .. segments",
        400,
        "url must not contain '..' segments",
        args=url("/static/%2e%2E/secret"),
    ),
    Case(
        "url of 100 KB",
        414,
        "url is 100008 characters long; the limit is 8192",
        args=url("/echo?x=" + "a" * 100_000),
    ),
    Case(
        "method does not match the event",
        400,
        "the payload's method 'POST' does not match the event 'get'",
        args=({"method": "POST", "url": "/echo"},),
    ),  # fmt: skip
    Case(
        "GET data is text",
        400,
        "data for a GET request must be an object (it becomes the query string), not a string",
        args=url("/echo", data="message=hi"),
    ),  # fmt: skip
    Case(
        "POST data is a number",
        400,
        "data must be an object or an array, not a number",
        event="post",
        args=({"url": "/json", "data": 5},),
    ),  # fmt: skip
    Case(
        "headers are a list",
        400,
        "headers must be an object of strings, not an array",
        args=url("/echo", headers=["X-A: 1"]),
    ),  # fmt: skip
    Case(
        "header value is a number",
        400,
        "header 'X-A' must be a string, not a number",
        args=url("/echo", headers={"X-A": 1}),
    ),
    Case(
        "header value is an object",
        400,
        "header 'X-A' must be a string, not an object",
        args=url("/echo", headers={"X-A": {"b": 1}}),
    ),  # fmt: skip
    Case(
        "header value has CRLF",
        400,
        "header 'X-A' must not contain control characters",
        args=url("/echo", headers={"X-A": "1\r\nX-B: 2"}),
    ),  # fmt: skip
    Case(
        "header name is not a token",
        400,
        "header name 'X A' is not a valid HTTP header name",
        args=url("/echo", headers={"X A": "1"}),
    ),  # fmt: skip
    Case(
        "too many headers",
        431,
        "101 headers; the limit is 100",
        args=url("/echo", headers={f"X-{n}": "1" for n in range(101)}),
    ),  # fmt: skip
    Case(
        "header over 8 KiB",
        431,
        "header 'X-A' is longer than 8192 characters",
        args=url("/echo", headers={"X-A": "a" * (8 * 1024 + 1)}),
    ),  # fmt: skip
    Case(
        "query string over SOCKPUB_MAX_PAYLOAD",
        413,
        f"the query string is {config.MAX_PAYLOAD + 8} bytes; SOCKPUB_MAX_PAYLOAD allows {config.MAX_PAYLOAD}",
        args=url("/echo", data={"message": "x" * config.MAX_PAYLOAD}),
    ),  # fmt: skip
    Case(
        "body over SOCKPUB_MAX_PAYLOAD",
        413,
        f"the request body is {config.MAX_PAYLOAD + 12} bytes; SOCKPUB_MAX_PAYLOAD allows {config.MAX_PAYLOAD}",
        event="post",
        args=({"url": "/json", "data": {"blob": OVER_MAX_PAYLOAD}},),
    ),  # fmt: skip
    Case(
        "data nested beyond what JSON encoding allows",
        400,
        "data cannot be sent as JSON (",
        args=url("/args", data={"a": json.loads("[" * 300 + "]" * 300)}),
        library_words=True,
    ),  # fmt: skip
    Case("JSON nested 10,000 deep", 400, BAD_JSON, raw=f'["get",{DEEP}]', library_words=True),
    Case(
        "JSON nested 10,000 deep inside data",
        400,
        BAD_JSON,
        raw=f'["post",{{"url":"/json","data":{{"a":{DEEP}}}}}]',
        library_words=True,
    ),  # fmt: skip
    Case(
        "lone surrogate",
        400,
        BAD_JSON,
        raw='["get",{"url":"/echo?message=\\ud800"}]',
        library_words=True,
    ),
    Case(
        "lone surrogate in data",
        400,
        BAD_JSON,
        args=url("/echo", data={"message": "\ud800"}),
        library_words=True,
    ),
    Case(
        "event is not an array",
        400,
        "a Socket.IO event must be an array [name, ...arguments], not an object",
        raw='{"url":"/echo"}',
    ),  # fmt: skip
    Case(
        "event array is empty",
        400,
        "a Socket.IO event must name its event: the array is empty",
        raw="[]",
    ),
    Case(
        "event name is a number",
        400,
        "the event name must be a string, not a number",
        event=5,
        args=url("/echo"),
    ),
    Case(
        "unknown event name",
        400,
        "unknown event 'subscribe': socket requests are sent as one of get, post, put, patch, delete, head, options",
        event="subscribe",
        args=url("/echo"),
    ),  # fmt: skip
]


@pytest.fixture(scope="module")
def raw_socket(pipeline_server: LiveServer) -> Iterator[RawSocket]:
    """One hand-spoken socket to the real server for the whole table."""
    raw = RawSocket(pipeline_server.url)
    yield raw
    raw.close()


def assert_error_answer(case: Case, answer: Any) -> None:
    if case.legacy:
        # The v0.9 form: the body alone, as JSON text.
        assert isinstance(answer, str)
        error = json.loads(answer)["error"]
    else:
        assert answer["statusCode"] == case.status, answer
        assert answer["headers"]["Content-Type"] == "application/json"
        assert set(answer["body"]) == {"error"}
        error = answer["body"]["error"]
    if case.library_words:
        assert error.startswith(case.error) and error.endswith(")"), error
    else:
        assert error == case.error


TABLE = [pytest.param(case, "real_server", id=f"{case.name}-real_server") for case in CASES] + [
    pytest.param(case, "test_client", id=f"{case.name}-test_client")
    for case in CASES
    if case.test_client
]


@pytest.mark.parametrize(("case", "transport"), TABLE)
def test_hostile_input_gets_a_4xx_answer_saying_what_was_wrong(
    case: Case, transport: str, request: pytest.FixtureRequest, real_socket: Client
) -> None:
    # real_socket is requested so that it is open before the table: see the tests after it.
    if transport == "real_server":
        answer = request.getfixturevalue("raw_socket").call(case.packet_json())
    else:
        answer = request.getfixturevalue("test_socket").emit(case.event, *case.args)
    assert_error_answer(case, answer)


def test_a_socket_open_before_the_table_still_gets_correct_answers(
    real_socket: Client, raw_socket: RawSocket
) -> None:
    assert real_socket.get("/echo", {"message": "still here"}).body == {
        "success": True,
        "message": "still here",
    }
    assert real_socket.post("/json", {"name": "Randy"}).body["param"] == "Randy"
    assert raw_socket.call('["get",{"url":"/echo?message=raw"}]')["body"]["message"] == "raw"


def test_an_event_announcing_over_a_hundred_binary_attachments_is_refused(
    pipeline_server: LiveServer,
) -> None:
    # python-socketio would hold every attachment in memory until the last one came.
    raw = RawSocket(pipeline_server.url)
    try:
        answer = raw.call('["get",{"url":"/echo"}]', attachments=101)
        assert answer == {
            "body": {"error": "101 binary attachments; the limit is 100"},
            "statusCode": 400,
            "headers": {"Content-Type": "application/json"},
        }
        assert raw.call('["get",{"url":"/echo?message=after"}]')["body"]["message"] == "after"
    finally:
        raw.close()


def test_a_new_socket_after_the_table_gets_correct_answers(pipeline_server: LiveServer) -> None:
    fresh = RawSocket(pipeline_server.url)
    try:
        answer = fresh.call('["get",{"url":"/echo?message=new"}]')
        assert answer["statusCode"] == 200 and answer["body"]["message"] == "new"
    finally:
        fresh.close()


def test_events_without_acknowledgement_are_replayed_or_refused_and_logged_once_each(
    pipeline_server: LiveServer, raw_socket: RawSocket
) -> None:
    marker = uuid.uuid4().hex
    tracebacks = pipeline_server.log().count("Traceback")
    raw_socket.send(f'42["post",{{"url":"/echo?message={marker}","data":{{"message":"x"}}}}]')
    raw_socket.send(f'42["get",{{"url":"/echo","headers":{{"bad name {marker}":"1"}}}}]')
    raw_socket.send(f'42["{marker}",{{"url":"/echo"}}]')
    # The next acknowledged request is answered: nothing got stuck behind the others.
    assert raw_socket.call('["get",{"url":"/echo?message=after"}]')["statusCode"] == 200
    lines = "\n".join(wait_for_lines(pipeline_server, marker, 3))
    assert lines.count(marker) == 3, lines
    assert f"POST /echo?message={marker} 200" in lines
    assert f"GET <bad payload> 400 header name 'bad name {marker}'" in lines
    assert f"<unknown event> 400 unknown event '{marker}'" in lines
    assert lines.count("(no acknowledgement asked: answer dropped)") == 2
    assert pipeline_server.log().count("Traceback") == tracebacks


def wait_for_lines(server: LiveServer, marker: str, count: int, timeout: float = 5.0) -> list[str]:
    import time

    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in server.log().splitlines() if marker in line]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_a_request_without_acknowledgement_through_the_test_client_is_logged_once(
    test_socket: SocketTestClient, caplog: pytest.LogCaptureFixture
) -> None:
    marker = uuid.uuid4().hex
    with caplog.at_level(logging.INFO, logger="flask_sockpub"):
        test_socket.client.emit("get", {"url": f"/echo?message={marker}"})
    lines = [record.getMessage() for record in caplog.records if marker in record.getMessage()]
    assert len(lines) == 1 and lines[0].endswith("(no acknowledgement asked: answer dropped)")


def test_a_frame_over_the_transport_limit_closes_the_socket(
    pipeline_server: LiveServer, real_socket: Client
) -> None:
    doomed = RawSocket(pipeline_server.url)
    try:
        blob = "x" * (config.transport_limit(config.MAX_PAYLOAD) + 1)
        doomed.send(f'421["post",{{"url":"/json","data":{{"blob":"{blob}"}}}}]')
        opcode, _ = doomed.ws.recv_data(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE
    finally:
        doomed.close()
    assert real_socket.get("/echo").status_code == 200
