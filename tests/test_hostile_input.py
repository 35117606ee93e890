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

    @property
    def test_client(self) -> bool:
        """Whether the test client can send it: Python clients cannot send raw packets."""
        return self.raw is None

    def packet_json(self) -> str:
        return self.raw if self.raw is not None else json.dumps([self.event, *self.args])


def url(value: Any, **payload: Any) -> tuple[Any, ...]:
    return ({"method": "GET", "url": value, **payload},)


OVER_MAX_PAYLOAD = "x" * (config.MAX_PAYLOAD + 1)

CASES = [
    Case("payload is a number", 400, "must be an object", args=(5,)),
    Case("payload is null", 400, "not null", args=(None,)),
    Case("payload is a list", 400, "not an array", args=([1, 2],)),
    Case("payload is a boolean", 400, "not a boolean", args=(True,)),
    Case("no payload", 400, "needs a payload"),
    Case(
        "payload string is not JSON", 400, "not valid JSON", args=('{"url": "/echo"',), legacy=True
    ),
    Case("missing url", 400, "no url", args=({"method": "GET"},)),
    Case("url is a number", 400, "url must be a string", args=url(7)),
    Case(
        "url is absolute",
        400,
        "must be a path on this server",
        args=url("http://evil.example/echo"),
    ),
    Case(
        "url is protocol-relative",
        400,
        "must be a path on this server",
        args=url("//evil.example/echo"),
    ),
    Case("url has CRLF", 400, "control characters", args=url("/echo\r\nX-Injected: yes")),
    Case("url has NUL", 400, "control characters", args=url("/echo\x00.json")),
    Case("url has .. segments", 400, "'..' segments", args=url("/static/../secret")),
    Case("url has encoded .. segments", 400, "'..' segments", args=url("/static/%2e%2E/secret")),
    Case("url of 100 KB", 414, "characters long", args=url("/echo?x=" + "a" * 100_000)),
    Case(
        "method does not match the event",
        400,
        "does not match",
        args=({"method": "POST", "url": "/echo"},),
    ),
    Case("GET data is text", 400, "must be an object", args=url("/echo", data="message=hi")),
    Case(
        "POST data is a number",
        400,
        "object or an array",
        event="post",
        args=({"url": "/json", "data": 5},),
    ),
    Case(
        "headers are a list",
        400,
        "headers must be an object",
        args=url("/echo", headers=["X-A: 1"]),
    ),
    Case(
        "header value is a number", 400, "must be a string", args=url("/echo", headers={"X-A": 1})
    ),
    Case(
        "header value is an object",
        400,
        "must be a string",
        args=url("/echo", headers={"X-A": {"b": 1}}),
    ),
    Case(
        "header value has CRLF",
        400,
        "control characters",
        args=url("/echo", headers={"X-A": "1\r\nX-B: 2"}),
    ),
    Case(
        "header name is not a token",
        400,
        "not a valid HTTP header name",
        args=url("/echo", headers={"X A": "1"}),
    ),
    Case(
        "too many headers",
        431,
        "headers; the limit",
        args=url("/echo", headers={f"X-{n}": "1" for n in range(101)}),
    ),
    Case(
        "body over SOCKPUB_MAX_PAYLOAD",
        413,
        "SOCKPUB_MAX_PAYLOAD",
        event="post",
        args=({"url": "/json", "data": {"blob": OVER_MAX_PAYLOAD}},),
    ),  # fmt: skip
    Case(
        "data nested beyond what JSON encoding allows",
        400,
        "cannot be sent as JSON",
        args=url("/args", data={"a": json.loads("[" * 300 + "]" * 300)}),
    ),  # fmt: skip
    Case("JSON nested 10,000 deep", 400, "not valid JSON", raw=f'["get",{DEEP}]'),
    Case(
        "JSON nested 10,000 deep inside data",
        400,
        "not valid JSON",
        raw=f'["post",{{"url":"/json","data":{{"a":{DEEP}}}}}]',
    ),  # fmt: skip
    Case("lone surrogate", 400, "not valid JSON", raw='["get",{"url":"/echo?message=\\ud800"}]'),
    Case(
        "lone surrogate in data",
        400,
        "not valid JSON",
        args=url("/echo", data={"message": "\ud800"}),
    ),
    Case("event is not an array", 400, "must be an array", raw='{"url":"/echo"}'),
    Case("event array is empty", 400, "array is empty", raw="[]"),
    Case("event name is a number", 400, "event name must be a string", event=5, args=url("/echo")),
    Case(
        "unknown event name", 400, "unknown event 'subscribe'", event="subscribe", args=url("/echo")
    ),
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
    assert case.error in error, error


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
