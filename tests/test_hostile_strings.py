"""Hostile strings and nesting get a 400 naming the field, never a 500, on SQLite, PostgreSQL and MariaDB.

* NUL (``"\\u0000"``) in a text value or a criteria value: PostgreSQL cannot
  store it and psycopg raises a ``ValueError`` (not a database error); SQLite
  stores it.
* A lone surrogate (``"\\ud800"``) in an HTTP JSON body: the standard
  library's JSON parser (Flask's) accepts it, no database driver can encode it.
  Over a socket the packet itself is refused (tests/test_hostile_input.py).
* Nesting: a request's data may nest 254 levels (orjson's encoding limit), a
  packet 1,024 (orjson's decoding limit); HTTP bodies get the same 254.

The blueprint app (tests/apps/blueprints.py) is served under gevent once per
database; each test asks over HTTP and over a socket, and the server then
still answers a bystander.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from flask_sockpub.client import Client
from flask_sockpub.storable import MAX_NESTING
from flask_sockpub.testing import LiveServer
from tests.blueprint_support import Caller, make_user
from tests.raw_socket import RawSocket

pytestmark = pytest.mark.usefixtures("fresh_rows")

NUL_REFUSED = "text cannot contain NUL (\\u0000) characters on this database"
PACKET_NESTING = 1024
#: MariaDB's JSON columns (JSON_VALID checks) hold 31 levels at most: deeper
#: values reach the database and are refused by its check constraint.
MARIADB_REFUSAL = {"error": "the values were refused by a check constraint", "fields": {}}


@pytest.fixture
def db_name(blueprint_server: LiveServer, request: pytest.FixtureRequest) -> str:
    """``sqlite``, ``postgresql`` or ``mariadb``: the database the served app uses."""
    return str(request.node.callspec.params["blueprint_server"])


@pytest.fixture
def bystander(blueprint_server: LiveServer) -> Iterator[Client]:
    with Client(blueprint_server.url) as client:
        yield client


def assert_still_serving(bystander: Client) -> None:
    assert bystander.get("/user", {"limit": 1}).status_code == 200


def nested(levels: int) -> Any:
    """An array ``levels`` deep: ``nested(1) == []``."""
    value: list[Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


# NUL


def test_nul_in_a_text_value_is_a_400_naming_the_field_where_the_database_refuses_it(
    caller: Caller, db_name: str, bystander: Client
) -> None:
    created = caller.post("/user", {"name": "a\x00b"})
    user = make_user(caller, "plain")
    updated = caller.patch(f"/user/{user['id']}", {"email": "x\x00@example.com"})
    if db_name == "postgresql":
        assert (created.status_code, created.body["fields"]) == (400, {"name": NUL_REFUSED})
        assert (updated.status_code, updated.body["fields"]) == (400, {"email": NUL_REFUSED})
    else:
        assert created.status_code == 201 and created.body["name"] == "a\x00b"
        assert updated.status_code == 200 and updated.body["email"] == "x\x00@example.com"
    assert_still_serving(bystander)


@pytest.mark.parametrize(
    "params",
    [
        {"where": json.dumps({"name": "a\x00"})},
        {"where": json.dumps({"name": {"contains": "a\x00"}})},
        {"where": json.dumps({"name": {"in": ["x", "a\x00"]}})},
        {"where": json.dumps({"or": [{"team": "red"}, {"name": {"like": "%\x00"}}]})},
        {"name": "a\x00"},
    ],
    ids=["equal", "contains", "in", "like-in-or", "bare-parameter"],
)
def test_nul_in_a_criteria_value_is_a_400_naming_the_field_where_the_database_refuses_it(
    caller: Caller, db_name: str, params: dict[str, str], bystander: Client
) -> None:
    listed = caller.get("/person", params)
    if "contains" in str(params) or "like" in str(params):
        # Every database: SQLite's LIKE would take the NUL for the pattern's end.
        assert listed.status_code == 400, listed.body
        assert listed.body["fields"] == {
            "name": "a text pattern cannot contain NUL (\\u0000) characters"
        }
    elif db_name == "postgresql":
        assert listed.status_code == 400, listed.body
        assert listed.body["fields"] == {"name": NUL_REFUSED}
    else:
        assert listed.status_code == 200 and listed.body == []
    assert_still_serving(bystander)


def test_nul_in_a_text_primary_key_of_a_url_is_a_404(caller: Caller, bystander: Client) -> None:
    for answer in (
        caller.get("/tag/a%00b"),
        caller.patch("/tag/a%00b", {"color": "red"}),
        caller.delete("/tag/a%00b"),
    ):
        assert answer.status_code == 404, answer.body
    assert_still_serving(bystander)


# Lone surrogates


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"name": "\\ud800"}', "name"),
        ('{"name": "ok", "email": "a\\udfffb@example.com"}', "email"),
    ],
    ids=["text", "text-after-valid"],
)
def test_a_lone_surrogate_in_an_http_json_body_is_a_400_naming_the_field(
    blueprint_server: LiveServer, body: str, field: str, bystander: Client
) -> None:
    answer = requests.post(
        f"{blueprint_server.url}/user",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 400, answer.text
    fields = answer.json()["fields"]
    assert list(fields) == [field] and "lone surrogate" in fields[field]
    assert_still_serving(bystander)


def test_a_lone_surrogate_inside_a_json_column_value_is_a_400_naming_the_field(
    blueprint_server: LiveServer, bystander: Client
) -> None:
    answer = requests.post(
        f"{blueprint_server.url}/person",
        data='{"team": "red", "extra": {"notes": ["fine", "\\ud800"]}}',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 400, answer.text
    assert "lone surrogate" in answer.json()["fields"]["extra"]
    assert_still_serving(bystander)


def test_a_lone_surrogate_over_a_socket_is_refused_with_the_packet(
    blueprint_server: LiveServer,
) -> None:
    raw = RawSocket(blueprint_server.url)
    try:
        answer = raw.call('["post",{"url":"/user","data":{"name":"\\ud800"}}]')
        assert answer["statusCode"] == 400 and "not valid JSON" in answer["body"]["error"]
        assert raw.call('["get",{"url":"/user?limit=1"}]')["statusCode"] == 200
    finally:
        raw.close()


# Nesting


def test_socket_data_may_nest_to_the_limit_and_not_one_level_more(
    blueprint_server: LiveServer, bystander: Client, db_name: str
) -> None:
    caller = Client(blueprint_server.url)
    # data -> {"team", "extra"} is one level, so extra may be MAX_NESTING - 1 deep.
    at_limit = caller.patch("/person/1", {"team": "red", "extra": nested(MAX_NESTING - 1)})
    if db_name == "mariadb":
        assert (at_limit.status_code, at_limit.body) == (400, MARIADB_REFUSAL)
    else:
        assert at_limit.status_code == 200, str(at_limit.body)[:200]
        assert at_limit.body["extra"] == nested(MAX_NESTING - 1)
    over = caller.patch("/person/1", {"team": "red", "extra": nested(MAX_NESTING)})
    assert (over.status_code, over.body) == (
        400,
        {"error": f"data is nested more than {MAX_NESTING} levels deep"},
    )
    caller.close()
    assert_still_serving(bystander)


@pytest.mark.parametrize("levels", [MAX_NESTING - 1, MAX_NESTING, 600, 5000])
def test_http_bodies_may_nest_to_the_same_limit(
    blueprint_server: LiveServer, levels: int, bystander: Client, db_name: str
) -> None:
    body = '{"team": "red", "extra": ' + "[" * levels + "]" * levels + "}"
    answer = requests.patch(
        f"{blueprint_server.url}/person/1",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    if levels < MAX_NESTING and db_name == "mariadb":
        assert (answer.status_code, answer.json()) == (400, MARIADB_REFUSAL)
    elif levels < MAX_NESTING:
        assert answer.status_code == 200, answer.text[:200]
    elif levels < 900:
        # Flask parsed it: the field is named.
        assert answer.status_code == 400
        assert answer.json()["fields"] == {"extra": f"nested more than {MAX_NESTING} levels deep"}
    else:
        # Deeper than Flask's parser (Python's recursion limit) goes: the body as a whole.
        assert (answer.status_code, answer.json()["error"]) == (
            400,
            "the body is nested too deeply",
        )
    assert_still_serving(bystander)


def test_a_packet_may_nest_1024_levels_and_not_one_more(blueprint_server: LiveServer) -> None:
    raw = RawSocket(blueprint_server.url)
    try:
        # ["post", {"data": {"extra": ...}}]: the array, the payload and data are three levels.
        inner = PACKET_NESTING - 3
        packet = '["post",{"url":"/person","data":{"extra":' + "[" * inner + "]" * inner + "}}]"
        decoded = raw.call(packet)
        assert decoded["body"] == {"error": f"data is nested more than {MAX_NESTING} levels deep"}
        deeper = (
            '["post",{"url":"/person","data":{"extra":'
            + "[" * (inner + 1)
            + "]" * (inner + 1)
            + "}}]"
        )
        refused = raw.call(deeper)
        assert refused["statusCode"] == 400 and "depth limit exceeded" in refused["body"]["error"]
        assert raw.call('["get",{"url":"/user?limit=1"}]')["statusCode"] == 200
    finally:
        raw.close()
