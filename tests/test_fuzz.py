"""Fuzzing: random events, payloads, URLs, headers, criteria and bodies over real sockets and HTTP.

The CRUD blueprint app (tests/apps/blueprints.py) is served under gevent on
PostgreSQL (the stricter database: it refuses NUL in text), and hypothesis
throws at it:

* socket requests as raw Socket.IO frames (so that even what no client
  library sends arrives): any event name, payloads shaped like requests with
  random URLs, criteria, bodies and headers, or any JSON at all, and packet
  text that is not JSON;
* HTTP requests with random methods, URLs, headers and bodies (JSON, forms,
  bytes).

Whatever arrives, the server must answer every socket request under its
acknowledgement id with a well-formed JWR (``statusCode``, ``headers`` of
text, a ``body``; an ``{"error": ...}`` body for 4xx and 5xx), never a 5xx
(no view of this app raises; a 503 only from the list time bound), answer
every HTTP request below 500, keep running, and log no traceback.

The test command runs a fixed number of examples with a fixed seed
(``derandomize``), so CI is reproducible. A longer run with random seeds::

    SOCKPUB_FUZZ_EXAMPLES=20000 SOCKPUB_FUZZ_RANDOM=1 .venv/bin/python -m pytest tests/test_fuzz.py -p no:xdist -q

``SOCKPUB_FUZZ_EXAMPLES`` scales every test's examples (the default gives
2,000 in all); ``SOCKPUB_FUZZ_RANDOM=1`` draws new examples on each run
(hypothesis prints the seed of a failure so that it can be replayed with
``--hypothesis-seed``); ``SOCKPUB_FUZZ_DATABASE=sqlite`` serves SQLite instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from flask_sockpub.testing import LiveServer, live_server
from tests.databases import postgres_database
from tests.raw_socket import RawSocket

#: Examples per test in the test command; the env var scales them for long runs.
EXAMPLES = {"socket_requests": 1100, "socket_packets": 400, "http": 500}
TOTAL = int(os.environ.get("SOCKPUB_FUZZ_EXAMPLES", "0")) or sum(EXAMPLES.values())
RANDOM = os.environ.get("SOCKPUB_FUZZ_RANDOM") == "1"


def fuzz_settings(name: str) -> Any:
    examples = max(1, EXAMPLES[name] * TOTAL // sum(EXAMPLES.values()))
    return settings(
        max_examples=examples,
        derandomize=not RANDOM,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
        print_blob=True,
        # No explain phase: on a failure it replays the example hundreds of
        # times over the network (minutes) to annotate the report.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    )


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    choice = os.environ.get("SOCKPUB_FUZZ_DATABASE", "postgresql")
    if choice == "sqlite":
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            env = {"DATABASE_URL": f"sqlite:///{folder}/fuzz.sqlite"}
            with live_server(
                "tests.apps.blueprints:create_app", async_mode="gevent", env=env
            ) as served:
                reset(served)
                yield served
                check_log(served)
        return
    with postgres_database("sockpub_fuzz") as url:
        with live_server(
            "tests.apps.blueprints:create_app", async_mode="gevent", env={"DATABASE_URL": url}
        ) as served:
            reset(served)
            yield served
            check_log(served)


def reset(server: LiveServer) -> None:
    assert requests.post(f"{server.url}/_testing/reset", timeout=30).status_code == 200


def check_log(server: LiveServer) -> None:
    server.check_alive()
    log = server.log()
    assert "Traceback" not in log, log[
        log.index("Traceback") - 2000 : log.index("Traceback") + 3000
    ]


@pytest.fixture(scope="module")
def raw(server: LiveServer) -> Iterator[RawSocket]:
    socket = RawSocket(server.url)
    yield socket
    socket.close()


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


# -- strategies -------------------------------------------------------------

#: Strings hostile code paths have tripped over: NUL, lone surrogates, control
#: characters, path tricks, SQL and LIKE metacharacters, huge numbers as text.
NASTY = [
    "", "\x00", "a\x00b", "\ud800", "\udfff", "x\ud800y", "\r\n", "\t", "\x7f", "..", "../..", "%2e%2e",
    "%00", "%ff", "%", "_", "\\", "'", '"', "' OR 1=1 --", "%_\\", "9" * 30, "-1", "1e309", "NaN",
    "Infinity", "true", "null", "[]", "{}", "İ", "ß", "ẞ", "😀", "\u202e", "\ufeff", "x" * 300,
]  # fmt: skip
FIELDS = ["id", "name", "email", "age", "created", "password_hash", "label", "color", "title", "owner",
          "text", "team", "kind", "balance", "born", "seen", "alarm", "token", "active", "height",
          "extra", "secret", "or", "and", "where", "sort", "limit", "skip", "_", "offset"]  # fmt: skip
OPERATORS = ["<", "<=", ">", ">=", "!=", "not", "!", "in", "nin", "contains", "startsWith", "endsWith",
             "like", "lessThan", "greaterThanOrEqual", "bogus"]  # fmt: skip
PREFIXES = ["/user", "/tag", "/ticket", "/person", "/note", "/mirrored", "/readable", "/guarded",
            "/tagged", "/short", "/even", "/sockpub/sockpub.js", "/nowhere", ""]  # fmt: skip

# Alphabets as plain strings: far cheaper to draw from than regular expressions.
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TOKEN_CHARACTERS = LETTERS + "0123456789!#$%&'*+-.^_`|~"
VISIBLE = "".join(map(chr, range(0x21, 0x7F)))
PRINTABLE = " " + VISIBLE
text = st.one_of(
    st.sampled_from(NASTY), st.text(max_size=12), st.text(st.characters(codec="utf-8"), max_size=6)
)
# Including lone surrogates, which only the packet's JSON escapes can carry.
any_text = st.one_of(text, st.text(st.characters(categories=["Cs", "Cc", "Lu"]), max_size=5))
numbers = st.one_of(
    st.integers(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False)
)
scalars = st.one_of(st.none(), st.booleans(), numbers, any_text)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=6,
)


def deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


deep_values = st.sampled_from([250, 253, 254, 255, 300, 1020, 1030]).map(deep)


@st.composite
def conditions(draw: st.DrawFn, depth: int = 0) -> Any:
    """A ``where`` object: fields with values, operators, or nested or/and."""
    result: dict[str, Any] = {}
    for _ in range(draw(st.integers(0, 3))):
        field = draw(st.sampled_from(FIELDS))
        if field in ("or", "and") and depth < 3:
            result[field] = draw(st.lists(conditions(depth + 1), max_size=3))
        elif draw(st.booleans()):
            result[field] = draw(
                st.dictionaries(st.sampled_from(OPERATORS), json_values, max_size=3)
            )
        else:
            result[field] = draw(json_values)
    return result


@st.composite
def query_params(draw: st.DrawFn) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if draw(st.booleans()):
        params["where"] = json.dumps(draw(conditions())) if draw(st.booleans()) else draw(text)
    if draw(st.booleans()):
        params["sort"] = draw(
            st.one_of(text, st.sampled_from(["name DESC", "age 1", '{"name": -1}', "id,name desc"]))
        )
    for name in ("limit", "skip"):
        if draw(st.booleans()):
            params[name] = draw(st.one_of(st.integers(-5, 2000).map(str), text))
    for _ in range(draw(st.integers(0, 2))):
        params[draw(st.sampled_from(FIELDS))] = draw(text)
    return params


@st.composite
def paths(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(PREFIXES))
    tail = draw(
        st.one_of(
            st.just(""),
            st.integers(-3, 2**70).map(lambda n: f"/{n}"),
            text.map(lambda t: "/" + quote(t.encode("utf-8", "surrogatepass"), safe="")),
            st.sampled_from(["/1", "/create", "/update/1", "/destroy/1", "/1/", "//1", "/1/x"]),
        )
    )
    return (prefix + tail) or "/"


@st.composite
def urls(draw: st.DrawFn) -> str:
    path = draw(paths())
    params = draw(query_params())
    if params and draw(st.booleans()):
        encoded = "&".join(
            f"{quote(key)}={quote(str(value).encode('utf-8', 'surrogatepass'), safe='')}"
            for key, value in params.items()
        )
        return f"{path}?{encoded}"
    return path


bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5),
    st.fixed_dictionaries({"extra": deep_values}),
    json_values,
)
header_names = st.one_of(
    st.sampled_from(["Content-Type", "X-Owner", "X-Key", "Accept", "Cookie", "Origin", "Host", "X-Forwarded-For",
                     "Content-Length", "Transfer-Encoding", "If-None-Match", "Range", "X A", ""]),
    st.text(TOKEN_CHARACTERS, min_size=1, max_size=12),
)  # fmt: skip
header_values = st.one_of(
    st.sampled_from(["sesame", "application/json", "application/x-www-form-urlencoded", "text/plain",
                     "multipart/form-data; boundary=x", "bytes=0-1", "*/*"]),
    text,
)  # fmt: skip
METHOD_EVENTS = ["get", "post", "put", "patch", "delete", "head", "options", "GET", "Post"]


@st.composite
def socket_events(draw: st.DrawFn) -> tuple[Any, Any, bool]:
    """(event name, payload, whether the payload is the v0.9 JSON-string form)."""
    event = draw(st.one_of(st.sampled_from(METHOD_EVENTS), st.sampled_from(["connect", "disconnect", "message",
                                                                            "sockpub:malformed", "sockpub:unacked"]),
                           any_text, st.integers(), st.none()))  # fmt: skip
    shape = draw(st.sampled_from(["request", "request", "request", "legacy", "anything"]))
    if shape == "anything":
        return event, draw(json_values), False
    payload: dict[str, Any] = {"url": draw(st.one_of(urls(), urls(), any_text, json_values))}
    if draw(st.booleans()):
        method = event if isinstance(event, str) else "GET"
        payload["method"] = draw(st.one_of(st.just(method.upper()), json_values))
    if draw(st.booleans()):
        payload["data"] = draw(st.one_of(bodies, query_params()))
    if draw(st.booleans()):
        payload["headers"] = draw(
            st.one_of(st.dictionaries(header_names, header_values, max_size=4), json_values)
        )
    if shape == "legacy":
        return event, json.dumps(payload), True
    return event, payload, False


# -- checks ------------------------------------------------------------------


def assert_well_formed(answer: Any, legacy: bool) -> None:
    if legacy:
        return  # the v0.9 form: the body alone, any JSON value; that it came is the check
    assert isinstance(answer, dict) and set(answer) == {"body", "statusCode", "headers"}, answer
    status = answer["statusCode"]
    assert isinstance(status, int) and 100 <= status <= 599, answer
    headers = answer["headers"]
    assert isinstance(headers, dict), answer
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in headers.items()), (
        answer
    )
    if status >= 500:
        assert status == 503 and "SOCKPUB_LIST_QUERY_TIMEOUT" in answer["body"]["error"], answer
    # A HEAD request's JWR carries no body (as over HTTP).
    if (
        status >= 400
        and answer["body"] is not None
        and headers.get("Content-Type", "").startswith("application/json")
    ):
        assert isinstance(answer["body"], dict) and isinstance(answer["body"].get("error"), str), (
            answer
        )


# -- the tests ---------------------------------------------------------------


@fuzz_settings("socket_requests")
@given(event=socket_events())
def test_every_socket_request_gets_a_well_formed_answer(
    server: LiveServer, raw: RawSocket, event: Any
) -> None:
    name, payload, _ = event
    # json.dumps escapes lone surrogates, as a client's JSON encoder may.
    answer = raw.call(json.dumps([name, payload]))
    # Any string payload, and any payload of Sails 0.9's message event, is the
    # v0.9 form, answered with the body alone.
    assert_well_formed(answer, legacy=isinstance(payload, str) or name == "message")


packet_texts = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.builds(lambda value: json.dumps(value)[: len(json.dumps(value)) // 2], json_values),
    st.sampled_from(['["get"', "[]", "{}", '"get"', "[1]", '["get",]', "[null]", '["get",{"url":"/user"', "\x00",
                     '["get",{"url":"\\ud800"}]', '["get",' + "[" * 1100 + "]" * 1100 + "]", "[" * 100000]),
)  # fmt: skip


@fuzz_settings("socket_packets")
# After "42<ack id>", a digit would lengthen the id, "<digits>-" announce binary
# attachments and "/" name a namespace: other packets, with no ack id to answer.
@given(packet=packet_texts.filter(lambda t: not t[:1].isdigit() and not t.startswith(("/", "-"))))
def test_every_event_packet_gets_an_answer_whatever_its_text(
    server: LiveServer, raw: RawSocket, packet: str
) -> None:
    answer = raw.call(packet)
    assert_well_formed(answer, legacy=False)


HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@st.composite
def http_bodies(draw: st.DrawFn) -> tuple[str | None, bytes | None]:
    """(Content-Type, body)."""
    kind = draw(st.sampled_from(["none", "json", "json-text", "form", "bytes"]))
    if kind == "none":
        return None, None
    if kind == "json":
        # The standard library's encoder, which escapes lone surrogates, as clients do.
        return "application/json", json.dumps(draw(bodies)).encode()
    if kind == "json-text":
        return "application/json", draw(st.sampled_from([b'{"name": "\\ud800"}', b"{", b"[" * 5000, b'{"name": "\x00"}',
                                                          b'{"name": 1e999}', b"\xff\xfe", b'{"age": 99999999999999999999999}']))  # fmt: skip
    if kind == "form":
        pairs = draw(st.dictionaries(st.sampled_from(FIELDS), text, max_size=4))
        encoded = "&".join(
            f"{quote(key)}={quote(value.encode('utf-8', 'surrogatepass'))}"
            for key, value in pairs.items()
        )
        return "application/x-www-form-urlencoded", encoded.encode()
    content_type = draw(
        st.sampled_from(
            ["application/json", "text/plain", "multipart/form-data; boundary=x", "x/y"]
        )
    )
    return content_type, draw(st.binary(max_size=64))


@fuzz_settings("http")
@given(
    method=st.sampled_from(HTTP_METHODS),
    url=urls(),
    headers=st.dictionaries(
        st.text(LETTERS, min_size=1, max_size=8).map(lambda name: "X-" + name),
        st.one_of(
            st.just(""),
            st.text(VISIBLE, min_size=1, max_size=1).flatmap(
                lambda first: st.text(PRINTABLE, max_size=19).map(lambda rest: first + rest)
            ),
        ),
        max_size=3,
    ),
    body=http_bodies(),
)
def test_every_http_request_gets_an_answer_below_500(
    server: LiveServer,
    http: requests.Session,
    method: str,
    url: str,
    headers: dict[str, str],
    body: tuple[Any, Any],
) -> None:
    content_type, data = body
    if content_type is not None:
        headers = {**headers, "Content-Type": content_type}
    answer = http.request(
        method, server.url + url, headers=headers, data=data, timeout=30, allow_redirects=False
    )
    assert answer.status_code < 500 or (
        answer.status_code == 503 and "SOCKPUB_LIST_QUERY_TIMEOUT" in answer.text
    ), (answer.status_code, answer.text[:500])


def test_the_server_still_answers_after_the_fuzzing(server: LiveServer) -> None:
    # A fresh socket: the fuzzing one has not answered pings during the HTTP fuzzing.
    fresh = RawSocket(server.url)
    try:
        assert fresh.call('["get",{"url":"/person?limit=2"}]')["statusCode"] == 200
    finally:
        fresh.close()
    check_log(server)
