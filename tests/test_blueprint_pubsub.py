"""What CRUD blueprints publish and subscribe, on SQLite and PostgreSQL.

The seed's promise: a socket that lists ``/user`` is told of every user
created afterwards, and of every update and destroy of the users it knows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flask_sockpub.client import Client
from flask_sockpub.sockets import SUBSCRIBED_HEADER
from flask_sockpub.testing import Inbox, LiveServer
from tests.blueprint_support import Caller, HttpCaller, make_user, members

pytestmark = pytest.mark.usefixtures("fresh_rows")


@pytest.fixture
def bob(blueprint_server: LiveServer) -> Iterator[Client]:
    """A third socket: another user of the scoped notes."""
    with Client(blueprint_server.url) as client:
        yield client


def verbs(inbox: Inbox) -> list[tuple[str, Any]]:
    return [(item.data["verb"], item.data["id"]) for item in inbox.items]


def test_a_listing_socket_hears_create_update_and_destroy_exactly_once(
    caller: Caller, listener: Client
) -> None:
    heard = Inbox(listener)
    assert listener.get("/user").body == []
    user = make_user(caller, "Randy")
    assert [item.data for item in heard.wait(1)] == [
        {"model": "user", "verb": "create", "id": user["id"], "data": user}
    ]
    updated = caller.patch(f"/user/{user['id']}", {"age": 31}).body
    heard.wait(2)
    assert heard.items[1].data == {
        "model": "user",
        "verb": "update",
        "id": user["id"],
        "data": updated,
    }
    caller.delete(f"/user/{user['id']}")
    heard.wait(3)
    assert heard.items[2].data == {"model": "user", "verb": "destroy", "id": user["id"]}
    # A request on the same socket answers after anything published before it.
    listener.get("/user")
    assert verbs(heard) == [("create", user["id"]), ("update", user["id"]), ("destroy", user["id"])]


def test_the_requesting_socket_gets_its_answer_and_no_echo(listener: Client, bob: Client) -> None:
    bob_heard = Inbox(bob)
    listener_heard = Inbox(listener)
    bob.get("/user")
    listener.get("/user")
    user = make_user(bob)
    bob.patch(f"/user/{user['id']}", {"age": 1})
    bob.delete(f"/user/{user['id']}")
    listener_heard.wait(3)
    bob.get("/user")
    assert bob_heard.items == []


def test_mirror_sends_the_requester_its_own_messages(bob: Client) -> None:
    heard = Inbox(bob)
    bob.get("/mirrored")
    created = bob.post("/mirrored", {"name": "Mirror"}).body
    bob.patch(f"/mirrored/{created['id']}", {"age": 2})
    bob.delete(f"/mirrored/{created['id']}")
    heard.wait(3)
    assert verbs(heard) == [
        ("create", created["id"]),
        ("update", created["id"]),
        ("destroy", created["id"]),
    ]


def test_a_socket_that_fetched_one_row_hears_about_that_row_only(
    caller: Caller, listener: Client
) -> None:
    seven, other = make_user(caller, "Seven"), make_user(caller, "Other")
    heard = Inbox(listener)
    listener.get(f"/user/{seven['id']}")
    caller.patch(f"/user/{other['id']}", {"age": 1})
    make_user(caller, "New")  # the class room's business, not this socket's
    caller.patch(f"/user/{seven['id']}", {"age": 7})
    heard.wait(1)
    listener.get("/user/0")
    assert verbs(heard) == [("update", seven["id"])]


def test_a_created_row_is_introduced_to_class_room_members_and_its_creator(
    listener: Client, bob: Client, blueprint_server: LiveServer
) -> None:
    listener.get("/user")
    user = make_user(bob)
    assert sorted(members(blueprint_server, "user", user["id"])) == sorted([listener.sid, bob.sid])


def test_destroy_leaves_nobody_in_the_instance_room(
    listener: Client, bob: Client, blueprint_server: LiveServer
) -> None:
    user = make_user(bob)
    listener.get(f"/user/{user['id']}")
    bob.get(f"/user/{user['id']}")
    assert len(members(blueprint_server, "user", user["id"])) == 2
    bob.delete(f"/user/{user['id']}")
    assert members(blueprint_server, "user", user["id"]) == []


def test_http_requests_publish_the_same_messages_and_subscribe_nothing(
    listener: Client, blueprint_server: LiveServer
) -> None:
    http = HttpCaller(blueprint_server.url)
    heard = Inbox(listener)
    listener.get("/user")
    http.get("/user")
    user = make_user(http)
    http.get(f"/user/{user['id']}")
    http.put(f"/user/{user['id']}", {"name": "Http"})
    http.delete(f"/user/{user['id']}")
    heard.wait(3)
    assert verbs(heard) == [("create", user["id"]), ("update", user["id"]), ("destroy", user["id"])]
    assert members(blueprint_server, "user", "class") == [listener.sid]


def test_an_update_that_changes_nothing_publishes_nothing(caller: Caller, listener: Client) -> None:
    user = make_user(caller, age=30)
    heard = Inbox(listener)
    listener.get(f"/user/{user['id']}")
    for body in ({}, {"name": user["name"], "age": 30}, user):
        unchanged = caller.put(f"/user/{user['id']}", body)
        assert (unchanged.status_code, unchanged.body) == (200, user)
    changed = caller.patch(f"/user/{user['id']}", {"age": 31}).body
    # Per room, messages arrive in publish order: a no-op's update would come first.
    assert [item.data for item in heard.wait(1)] == [
        {"model": "user", "verb": "update", "id": user["id"], "data": changed}
    ]


def test_head_answers_like_get_and_subscribes_nothing(
    caller: Caller, blueprint_server: LiveServer
) -> None:
    user = make_user(HttpCaller(blueprint_server.url))
    for path in ("/user", f"/user/{user['id']}"):
        answer = caller.request("HEAD", path)
        assert answer.status_code == 200 and not answer.body
        assert SUBSCRIBED_HEADER not in answer.headers
    assert answer.headers["Content-Type"] == "application/json"
    assert caller.request("HEAD", "/user").headers["X-Total-Count"] == "1"
    if isinstance(caller, Client):
        assert caller.sid not in members(blueprint_server, "user", "class")
        assert caller.sid not in members(blueprint_server, "user", user["id"])


def test_authorize_decides_which_rows_a_socket_subscribes_to(
    listener: Client, bob: Client, blueprint_server: LiveServer
) -> None:
    made = [make_user(bob, name)["id"] for name in ("a", "b", "c", "d")]
    listener.get("/even")
    for key in made:
        joined = listener.sid in members(blueprint_server, "user", key)
        assert joined == (key % 2 == 0), key
    assert listener.sid not in members(blueprint_server, "user", "class")


# A base query that scopes rows per request: nothing of another user's is reachable.

ALICE, BOB = {"X-Owner": "alice"}, {"X-Owner": "bob"}


@pytest.fixture
def alices_note(caller: Caller) -> dict[str, Any]:
    created = caller.post("/note", {"owner": "alice", "text": "secret"}, headers=ALICE)
    assert created.status_code == 201, created.body
    caller.post("/note", {"owner": "bob", "text": "mine"}, headers=BOB)
    return dict(created.body)


def test_scope_hides_another_users_row_from_get_update_and_destroy(
    caller: Caller, alices_note: dict[str, Any]
) -> None:
    key = alices_note["id"]
    assert caller.get(f"/note/{key}", headers=BOB).status_code == 404
    assert caller.patch(f"/note/{key}", {"text": "mine now"}, headers=BOB).status_code == 404
    assert caller.delete(f"/note/{key}", headers=BOB).status_code == 404
    assert caller.get(f"/note/{key}", headers=ALICE).body == alices_note


@pytest.mark.parametrize(
    "params",
    [
        {"where": '{"id": %(id)s}'},
        {"id": "%(id)s"},
        {"where": '{"or": [{"id": %(id)s}, {"owner": "alice"}, {"text": {"contains": "e"}}]}'},
        {"where": '{"owner": {"nin": ["bob"]}}'},
    ],
    ids=["where-id", "bare-id", "or", "nin"],
)
def test_scope_hides_another_users_row_from_list_criteria(
    caller: Caller, alices_note: dict[str, Any], params: dict[str, str]
) -> None:
    filled = {name: value % {"id": alices_note["id"]} for name, value in params.items()}
    listed = caller.get("/note", filled, headers=BOB)
    assert listed.status_code == 200
    assert all(row["owner"] == "bob" for row in listed.body)
    assert listed.headers["X-Total-Count"] == str(len(listed.body))


def test_scope_survives_sort_and_skip_probing(caller: Caller, alices_note: dict[str, Any]) -> None:
    for sort in ("text", "text DESC", "owner", "id DESC"):
        seen = [
            caller.get("/note", {"sort": sort, "skip": str(skip), "limit": "1"}, headers=BOB).body
            for skip in range(3)
        ]
        assert [row["owner"] for page in seen for row in page] == ["bob"]


def test_scope_keeps_sockets_out_of_another_users_rooms(
    bob: Client, listener: Client, alices_note: dict[str, Any], blueprint_server: LiveServer
) -> None:
    heard = Inbox(bob)
    bob.get(f"/note/{alices_note['id']}", headers=BOB)
    bob.get("/note", headers=BOB)
    assert bob.sid not in members(blueprint_server, "note", alices_note["id"])
    assert bob.sid not in members(blueprint_server, "note", "class")
    listener.patch(f"/note/{alices_note['id']}", {"text": "changed"}, headers=ALICE)
    listener.post("/note", {"owner": "alice", "text": "another"}, headers=ALICE)
    bob.get("/note", headers=BOB)
    assert heard.items == []
