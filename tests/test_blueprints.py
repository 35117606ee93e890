"""CRUD blueprints over HTTP and sockets, on SQLite and PostgreSQL.

The app (tests/apps/blueprints.py) is served for real under gevent, once per
database; each test starts from the same rows and talks to it over HTTP and
over a python-socketio socket alike (fixtures in tests/blueprint_support.py).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests

from flask_sockpub.client import Client
from flask_sockpub.testing import Inbox, LiveServer
from flask_sockpub.wire.socket_request import FORM_CONTENT_TYPE
from tests.blueprint_support import Caller, count, make_user
from tests.criteria_data import ROWS, ids_where
from tests.test_criteria import CASES

pytestmark = pytest.mark.usefixtures("fresh_rows")

# Routes


def test_list_starts_empty_with_a_total_of_zero(caller: Caller) -> None:
    listed = caller.get("/user")
    assert (listed.status_code, listed.body, listed.headers["X-Total-Count"]) == (200, [], "0")


def test_create_answers_201_with_the_record_and_its_location(caller: Caller) -> None:
    created = caller.post("/user", {"name": "Randy", "email": "randy@example.com", "age": 30})
    assert created.status_code == 201
    assert {key: created.body[key] for key in ("name", "email", "age")} == {
        "name": "Randy", "email": "randy@example.com", "age": 30,
    }  # fmt: skip
    assert isinstance(created.body["id"], int) and created.body["created"]
    assert created.headers["Location"].endswith(f"/user/{created.body['id']}")


def test_get_one_answers_the_record_and_404_for_a_missing_id(caller: Caller) -> None:
    user = make_user(caller)
    assert caller.get(f"/user/{user['id']}").body == user
    missing = caller.get("/user/999999")
    assert (missing.status_code, missing.body) == (404, {"error": "no user with id 999999"})
    assert caller.get("/user/not-a-number").status_code == 404
    assert caller.get(f"/user/{2**70}").status_code == 404


def test_put_and_patch_update_only_the_fields_given(caller: Caller) -> None:
    user = make_user(caller, email="a@example.com")
    put = caller.put(f"/user/{user['id']}", {"name": "Amanda"})
    assert put.status_code == 200 and put.body == {**user, "name": "Amanda"}
    patched = caller.patch(f"/user/{user['id']}", {"age": 7})
    assert patched.body == {**user, "name": "Amanda", "age": 7}
    assert caller.put("/user/999999", {"name": "x"}).status_code == 404


def test_destroy_answers_the_record_as_it_was_and_removes_it(
    caller: Caller, blueprint_server: LiveServer
) -> None:
    user = make_user(caller)
    assert caller.delete(f"/user/{user['id']}").body == user
    assert caller.get(f"/user/{user['id']}").status_code == 404
    assert caller.delete(f"/user/{user['id']}").status_code == 404
    assert count(blueprint_server, "user") == 0


def test_list_returns_every_record_with_the_total(caller: Caller) -> None:
    made = [make_user(caller, name) for name in ("a", "b", "c")]
    listed = caller.get("/user")
    assert listed.body == made and listed.headers["X-Total-Count"] == "3"


def test_a_text_primary_key_is_given_by_the_client(caller: Caller) -> None:
    created = caller.post("/tag", {"label": "urgent", "color": "red"})
    assert created.status_code == 201 and created.body == {"label": "urgent", "color": "red"}
    assert caller.get("/tag/urgent").body == created.body
    assert caller.patch("/tag/urgent", {"color": "blue"}).body["color"] == "blue"
    assert caller.post("/tag", {"color": "red"}).body["fields"] == {"label": "required"}
    assert caller.patch("/tag/urgent", {"label": "other"}).body["fields"] == {
        "label": "the primary key cannot be set"
    }
    assert caller.delete("/tag/urgent").status_code == 200


def test_a_uuid_primary_key_is_made_by_the_server(caller: Caller) -> None:
    created = caller.post("/ticket", {"title": "Fix it"})
    key = uuid.UUID(created.body["id"])
    assert caller.get(f"/ticket/{key}").body == created.body
    assert caller.get("/ticket/not-a-uuid").status_code == 404
    assert caller.post("/ticket", {"id": str(uuid.uuid4()), "title": "x"}).body["fields"] == {
        "id": "the primary key cannot be set"
    }


def test_form_encoded_bodies_are_accepted(caller: Caller) -> None:
    created = caller.post(
        "/user", {"name": "Formy", "age": "12"}, headers={"Content-Type": FORM_CONTENT_TYPE}
    )
    assert created.status_code == 201 and created.body["age"] == 12


def test_a_record_sent_back_as_received_updates_it(caller: Caller) -> None:
    # A front end GETs a record, edits a field and PUTs the whole object back.
    user = caller.get(f"/user/{make_user(caller, email='a@example.com')['id']}").body
    put = caller.put(f"/user/{user['id']}", {**user, "name": "Amanda"})
    assert put.status_code == 200 and put.body == {**user, "name": "Amanda"}
    tag = caller.post("/tag", {"label": "urgent", "color": "red"}).body
    assert caller.put("/tag/urgent", {**tag, "color": "blue"}).body == {**tag, "color": "blue"}
    # A value that differs from the stored one is still refused, naming the field.
    moved = caller.put(f"/user/{user['id']}", {**user, "id": user["id"] + 1})
    assert moved.status_code == 400
    assert moved.body["fields"] == {"id": "the primary key cannot be set"}
    backdated = caller.put(f"/user/{user['id']}", {**user, "created": "2001-01-01T00:00:00"})
    assert backdated.status_code == 400 and backdated.body["fields"] == {"created": "read-only"}


def test_location_is_percent_encoded_and_keys_no_url_can_reach_are_refused(
    caller: Caller, blueprint_server: LiveServer
) -> None:
    created = caller.post("/tag", {"label": "a b?c#d%", "color": "red"})
    assert created.status_code == 201
    location = created.headers["Location"]
    assert location == f"{blueprint_server.url}/tag/a%20b%3Fc%23d%25"
    assert caller.get(location[len(blueprint_server.url) :]).body == created.body
    refused = caller.post("/tag", {"label": "a/b", "color": "red"})
    assert refused.status_code == 400
    assert refused.body["fields"] == {"label": "may not contain '/': no URL could reach the record"}
    assert caller.post("/tag", {"label": "..", "color": "red"}).body["fields"] == {
        "label": "'..' cannot name a record in a URL"
    }
    assert count(blueprint_server, "tag") == 1


def test_routing_errors_under_the_prefix_answer_json(caller: Caller) -> None:
    user = make_user(caller)
    refused = caller.post(f"/user/{user['id']}", {"name": "x"})
    assert refused.status_code == 405 and "not allowed" in refused.body["error"]
    assert {"GET", "PUT", "PATCH", "DELETE"} <= set(refused.headers["Allow"].split(", "))
    rejected = caller.get("/user/not-a-number")  # the int converter refuses it
    assert rejected.status_code == 404 and "not found" in rejected.body["error"]
    deeper = caller.get(f"/user/{user['id']}/friends")
    assert deeper.status_code == 404 and "not found" in deeper.body["error"]


def test_routing_errors_outside_every_prefix_keep_flasks_own_pages(
    blueprint_server: LiveServer,
) -> None:
    answer = requests.get(f"{blueprint_server.url}/username/1", timeout=10)
    assert answer.status_code == 404 and answer.headers["Content-Type"].startswith("text/html")


# Errors: 400 naming each field, 409 for unique clashes, nothing written


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "x", "bogus": 1}, {"bogus": "unknown attribute"}),
        ({"name": "x", "password_hash": "h"}, {"password_hash": "unknown attribute"}),
        ({"name": "x", "created": "2024-01-01T00:00:00"}, {"created": "read-only"}),
        ({"name": "x", "id": 5}, {"id": "the primary key cannot be set"}),
        ({"name": "x", "age": "old"}, {"age": "expected an integer, got 'old'"}),
        # Over a socket the number arrives as a float (JSON numbers are doubles there).
        ({"name": "x", "age": 2**70}, {"age": "expected an integer, got 1"}),
        ({"email": "a@example.com"}, {"name": "required"}),
        ({"name": None}, {"name": "may not be null"}),
        ({"name": "x" * 21}, {"name": "at most 20 characters, got 21"}),
        ({"name": 5}, {"name": "expected a string, got 5"}),
    ],
    ids=[
        "unknown",
        "hidden",
        "read-only",
        "primary-key",
        "wrong-type",
        "huge-int",
        "missing",
        "null",
        "too-long",
        "number-for-text",
    ],
)
def test_bad_create_bodies_get_400_naming_each_field_and_write_nothing(
    caller: Caller,
    listener: Client,
    blueprint_server: LiveServer,
    body: dict[str, Any],
    fields: dict[str, str],
) -> None:
    inbox = Inbox(listener)
    listener.get("/user")  # in the class room: would hear any create
    refused = caller.post("/user", body)
    assert refused.status_code == 400
    assert refused.body["fields"].keys() == fields.keys()
    assert all(refused.body["fields"][name].startswith(reason) for name, reason in fields.items())
    assert all(name in refused.body["error"] for name in fields)
    assert count(blueprint_server, "user") == 0
    assert listener.get("/user").body == [] and inbox.items == []


def test_a_bad_update_gets_400_and_changes_nothing(caller: Caller, listener: Client) -> None:
    user = make_user(caller)
    inbox = Inbox(listener)
    listener.get(f"/user/{user['id']}")
    refused = caller.patch(f"/user/{user['id']}", {"name": "ok", "age": "x", "nope": 1})
    assert refused.status_code == 400 and set(refused.body["fields"]) == {"age", "nope"}
    assert caller.get(f"/user/{user['id']}").body == user
    assert listener.get(f"/user/{user['id']}").status_code == 200 and inbox.items == []


def test_a_unique_clash_gets_409_naming_the_field_and_publishes_nothing(
    caller: Caller, listener: Client, blueprint_server: LiveServer
) -> None:
    first = make_user(caller, "Randy")
    other = make_user(caller, "Amanda")
    inbox = Inbox(listener)
    listener.get("/user")
    clash = caller.post("/user", {"name": "Randy"})
    assert clash.status_code == 409 and clash.body["fields"] == {"name": "already taken"}
    update_clash = caller.patch(f"/user/{other['id']}", {"name": "Randy"})
    assert update_clash.status_code == 409 and update_clash.body["fields"] == {
        "name": "already taken"
    }
    assert count(blueprint_server, "user") == 2
    assert caller.get(f"/user/{other['id']}").body["name"] == "Amanda"
    assert listener.get(f"/user/{first['id']}").status_code == 200 and inbox.items == []


def test_bodies_that_are_not_objects_are_refused(caller: Caller) -> None:
    refused = caller.post("/user", [1, 2])
    assert refused.status_code == 400
    assert refused.body["error"] == "the body must be a JSON object, not list"


def test_http_bodies_that_are_not_json_nor_forms_are_refused(blueprint_server: LiveServer) -> None:
    answer = requests.post(
        f"{blueprint_server.url}/user",
        data="{not json",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["error"] == "the body is not valid JSON"
    answer = requests.post(
        f"{blueprint_server.url}/user",
        data=b"\x00\x01",
        headers={"Content-Type": "application/octet-stream"},
        timeout=10,
    )
    assert (
        answer.status_code == 400
        and answer.json()["error"] == "send the values as JSON or form-encoded"
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"where": "{not json"}, "where"),
        ({"where": json.dumps({"age": {"~": 1}})}, "age"),
        ({"where": json.dumps({"password_hash": "x"})}, "password_hash"),
        ({"sort": "password_hash"}, "password_hash"),
        ({"offset": "3"}, "offset"),
        ({"order": "name"}, "order"),
        ({"nickname": "x"}, "nickname"),
        ({"limit": "many"}, "limit"),
        ({"age": "old"}, "age"),
    ],
)
def test_broken_list_parameters_get_400_naming_them(
    caller: Caller, params: dict[str, str], field: str
) -> None:
    refused = caller.get("/user", params)
    assert refused.status_code == 400, refused.body
    assert field in refused.body["fields"] and field in refused.body["error"]


def test_the_cache_buster_is_ignored(caller: Caller) -> None:
    assert caller.get("/user", {"_": "12345"}).status_code == 200


# List parameters: every criteria operator, against the plain-Python reference


@pytest.mark.parametrize(("params", "predicate"), CASES, ids=[str(dict(p)) for p, _ in CASES])
def test_list_criteria_select_the_rows_the_python_reference_selects(
    caller: Caller, params: dict[str, str], predicate: Any
) -> None:
    # Repeated keys (a MultiDict) travel as lists: repeated keys again in the query string.
    values = params.to_dict(flat=False) if hasattr(params, "to_dict") else dict(params)
    listed = caller.get("/person", {**values, "limit": "1000", "sort": "id"})
    assert listed.status_code == 200, listed.body
    assert [row["id"] for row in listed.body] == ids_where(predicate)


def test_sort_skip_and_limit_page_through_sorted_rows(caller: Caller) -> None:
    pages = [
        caller.get("/person", {"sort": "age DESC", "skip": str(skip), "limit": "5"}).body
        for skip in range(0, 20, 5)
    ]
    ages = [row["age"] for page in pages for row in page]
    present = sorted((row["age"] for row in ROWS if row["age"] is not None), reverse=True)
    assert ages == present + [None] * (len(ROWS) - len(present))
    assert caller.get("/person", {"limit": "5"}).headers["X-Total-Count"] == str(len(ROWS))


def test_hidden_columns_are_never_shown_nor_filtered(caller: Caller) -> None:
    listed = caller.get("/person").body
    assert listed and all("secret" not in row for row in listed)
    user = make_user(caller)
    assert "password_hash" not in user
    assert caller.get("/person", {"secret": "s1"}).status_code == 400


# Options


def test_actions_limit_the_routes(caller: Caller) -> None:
    assert caller.get("/readable").status_code == 200
    assert caller.post("/readable", {"name": "x"}).status_code in (404, 405)
    assert caller.delete("/readable/1").status_code in (404, 405)


def test_page_size_and_max_limit(caller: Caller) -> None:
    for name in "abcde":
        make_user(caller, name)
    assert len(caller.get("/readable").body) == 2
    assert len(caller.get("/readable", {"limit": "100"}).body) == 3
    assert caller.get("/readable").headers["X-Total-Count"] == "5"


def test_decorators_for_every_view(caller: Caller) -> None:
    assert caller.get("/guarded").status_code == 401
    assert caller.get("/guarded", headers={"X-Key": "sesame"}).status_code == 200
    assert caller.post("/guarded", {"name": "x"}).status_code == 401


def test_decorators_per_action(caller: Caller) -> None:
    assert caller.post("/tagged", {"name": "x"}).status_code == 401
    created = caller.post("/tagged", {"name": "x"}, headers={"X-Key": "sesame"})
    assert created.status_code == 201
    assert caller.get(f"/tagged/{created.body['id']}").headers["X-Decorated"] == "yes"
    assert "X-Decorated" not in caller.get("/tagged").headers


def test_shortcuts_are_off_by_default_and_write_when_on(
    caller: Caller, blueprint_server: LiveServer
) -> None:
    assert caller.get("/user/create", {"name": "x"}).status_code == 404
    created = caller.get("/short/create", {"name": "Short", "age": "3"})
    assert created.status_code == 201 and created.body["age"] == 3
    assert caller.get(f"/short/update/{created.body['id']}", {"age": "4"}).body["age"] == 4
    assert caller.get(f"/short/destroy/{created.body['id']}").status_code == 200
    assert count(blueprint_server, "user") == 0


def test_blueprints_refuse_models_they_cannot_serve() -> None:
    from flask_sqlalchemy import SQLAlchemy

    from flask_sockpub import SockPub

    db = SQLAlchemy()

    class Pair(db.Model):  # type: ignore[name-defined,misc]
        a = db.Column(db.Integer, primary_key=True)
        b = db.Column(db.Integer, primary_key=True)

    class Blob(db.Model):  # type: ignore[name-defined,misc]
        id = db.Column(db.Integer, primary_key=True)
        data = db.Column(db.LargeBinary)

    sockpub = SockPub(db=db)
    with pytest.raises(ValueError, match="single-column primary key"):
        sockpub.blueprint(Pair)
    with pytest.raises(ValueError, match="Blob.data holds bytes"):
        sockpub.blueprint(Blob)
    with pytest.raises(ValueError, match="no column attributes nope"):
        sockpub.blueprint(Blob, hidden=["nope"])
    with pytest.raises(ValueError, match="unknown actions"):
        sockpub.blueprint(Blob, hidden=["data"], actions=["list", "explode"])
    with pytest.raises(RuntimeError, match="SockPub\\(db=db\\)"):
        SockPub().blueprint(Blob)
