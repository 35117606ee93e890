"""Who may hear what: each finding of the hostile review of an app written as the docs say.

Each test reproduces a leak the review found (they failed before the fix) and
checks that a bystander socket is answered correctly meanwhile. The app is
``tests.apps.hearing`` (Flask-Login, an authorize hook, hidden fields), driven
in-process: HTTP through Flask's test client, sockets through SockPub's.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from flask_sockpub.client import Client
from flask_sockpub.identity import IDENTITY_CHANGED_HEADER, IDENTITY_EVENT, SESSION_FOLLOW_HEADER
from flask_sockpub.testing import Inbox, SocketTestClient, live_server
from tests.apps.hearing import create_app, sockpub

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def app() -> Flask:
    """The app with Flask's cookie sessions."""
    return create_app()


@pytest.fixture
def redis_app() -> Iterator[Flask]:
    """The app with Flask-Session keeping sessions in Redis, under a prefix of its own."""
    prefix = f"sockpub-hearing-{uuid.uuid4().hex}:"
    yield create_app(SESSION_TYPE="redis", SESSION_KEY_PREFIX=prefix, REDIS_URL=REDIS_URL)
    store = redis.Redis.from_url(REDIS_URL)
    keys = list(store.scan_iter(match=f"{prefix}*"))
    if keys:
        store.delete(*keys)
    store.close()


def socket_of(app: Flask, http: FlaskClient | None = None) -> SocketTestClient:
    """A socket on ``app``; opened by the page of ``http`` (its cookies) when given."""
    return sockpub.test_client(app, flask_test_client=http)


def logged_in(app: Flask, name: str) -> SocketTestClient:
    socket = socket_of(app)
    assert socket.post("/login", {"name": name}).body == {"user": name}
    return socket


def texts(socket: SocketTestClient) -> list[Any]:
    """The inbox texts ``socket`` heard since the last call."""
    return [item.data["text"] for item in socket.received("message") if "text" in item.data]


def events(socket: SocketTestClient) -> list[str]:
    return [item.event for item in socket.received()]


def messages(socket: SocketTestClient) -> list[Any]:
    return [item.data for item in socket.received("message")]


def rooms_of(socket: SocketTestClient) -> list[str]:
    return list(socket.get("/my/rooms").body["rooms"])


# Logout over a socket: the next user on that socket hears nothing of the previous user's rooms.


def test_logout_over_a_socket_leaves_every_room_and_the_jwr_says_so(app: Flask) -> None:
    socket = logged_in(app, "alice")
    bystander = logged_in(app, "alice")  # alice's other tab
    http = app.test_client()
    assert socket.get("/inbox").status_code == 200
    assert bystander.get("/inbox").status_code == 200
    assert socket.get("/note").status_code == 200  # the note class room, through authorize

    logout = socket.post("/logout")
    assert logout.body == {"user": None}
    login = socket.post("/login", {"name": "bob"})
    http.post("/inbox/alice", json={"text": "for alice"})
    assert texts(socket) == []
    assert texts(bystander) == ["for alice"]
    assert bystander.get("/me").body == {"user": "alice"}
    assert rooms_of(socket) == []
    assert logout.headers[IDENTITY_CHANGED_HEADER] == "1"
    assert login.headers[IDENTITY_CHANGED_HEADER] == "1"
    # What bob may hear, he hears once he subscribes again (the SDK does it).
    assert socket.get("/inbox").body == {"inbox": "bob"}
    http.post("/inbox/bob", json={"text": "for bob"})
    assert texts(socket) == ["for bob"]


def test_a_logout_in_a_plain_handler_leaves_every_room_and_the_socket_is_told(
    app: Flask,
) -> None:
    socket = logged_in(app, "alice")
    bystander = logged_in(app, "alice")
    socket.get("/inbox")
    bystander.get("/inbox")
    assert socket.emit("plain_logout") == {"user": None}
    told = events(socket)
    app.test_client().post("/inbox/alice", json={"text": "after logout"})
    assert texts(socket) == []
    assert texts(bystander) == ["after logout"]
    assert told == [IDENTITY_EVENT]
    assert socket.get("/me").body == {"user": None}


def test_a_request_that_keeps_the_identity_keeps_the_rooms(app: Flask) -> None:
    socket = logged_in(app, "alice")
    socket.get("/inbox")
    answer = socket.post("/value", {"value": "changed"})
    assert IDENTITY_CHANGED_HEADER not in answer.headers
    app.test_client().post("/inbox/alice", json={"text": "still here"})
    assert texts(socket) == ["still here"]


def test_a_cleared_session_counts_as_a_change_of_identity(app: Flask) -> None:
    socket = logged_in(app, "alice")
    bystander = socket_of(app)
    socket.get("/inbox")
    bystander.get("/public")
    cleared = socket.post("/clear")
    http = app.test_client()
    http.post("/inbox/alice", json={"text": "for alice"})
    http.post("/public/say", json={"text": "public"})
    assert texts(socket) == []
    assert texts(bystander) == ["public"]
    assert cleared.headers[IDENTITY_CHANGED_HEADER] == "1"


# Logout over HTTP.


def test_server_side_logout_over_http_takes_the_rooms_of_that_sessions_open_sockets(
    redis_app: Flask,
) -> None:
    page = redis_app.test_client()
    page.post("/login", json={"name": "alice"})
    socket = socket_of(redis_app, page)
    bystander = logged_in(redis_app, "alice")  # another session of alice's
    assert socket.get("/me").body == {"user": "alice"}
    socket.get("/inbox")
    bystander.get("/inbox")
    socket.received()

    page.post("/logout")
    told = events(socket)
    redis_app.test_client().post("/inbox/alice", json={"text": "after logout"})
    assert texts(socket) == []
    assert texts(bystander) == ["after logout"]
    assert told == [IDENTITY_EVENT]
    assert socket.get("/me").body == {"user": None}
    assert socket.get("/inbox").status_code == 401


def test_a_logout_the_process_did_not_see_takes_the_rooms_at_the_sockets_next_request(
    redis_app: Flask,
) -> None:
    page = redis_app.test_client()
    page.post("/login", json={"name": "alice"})
    socket = socket_of(redis_app, page)
    bystander = logged_in(redis_app, "alice")
    socket.get("/inbox")
    bystander.get("/inbox")
    # As if another process answered the logout: this one's map does not know.
    redis_app.extensions["sockpub"].sockets_by_session.clear()
    page.post("/logout")
    answer = socket.get("/public")
    redis_app.test_client().post("/inbox/alice", json={"text": "after logout"})
    redis_app.test_client().post("/public/say", json={"text": "public"})
    assert texts(socket) == ["public"]
    assert texts(bystander) == ["after logout"]
    assert answer.headers[IDENTITY_CHANGED_HEADER] == "1"


def test_with_cookie_sessions_log_out_sockets_reaches_the_users_sockets(app: Flask) -> None:
    page = app.test_client()
    page.post("/login", json={"name": "alice"})
    socket = socket_of(app, page)
    bob = logged_in(app, "bob")
    socket.get("/inbox")
    bob.get("/inbox")
    socket.received()

    assert page.post("/logout-everywhere").json == {"sockets": 1}
    assert events(socket) == [IDENTITY_EVENT]
    http = app.test_client()
    http.post("/inbox/alice", json={"text": "for alice"})
    http.post("/inbox/bob", json={"text": "for bob"})
    assert texts(socket) == []
    assert texts(bob) == ["for bob"]
    assert socket.get("/me").body == {"user": None}


# introduce and publish_create ask authorize.


def test_publish_create_introduces_only_the_sockets_authorize_lets_in(app: Flask) -> None:
    alice = logged_in(app, "alice")
    bob_reader = logged_in(app, "bob")
    bob_writer = logged_in(app, "bob")
    alice.get("/note")
    bob_reader.get("/note")
    created = bob_writer.post("/note", {"owner": "bob", "text": "bob's secret plan"})
    key = created.body["id"]
    # Both hear the create (the class room hears every create)...
    assert [m["verb"] for m in messages(alice)] == ["create"]
    assert [m["verb"] for m in messages(bob_reader)] == ["create"]
    # ...but only the owner's socket joined the note's room.
    bob_writer.put(f"/note/{key}", {"text": "bob's new plan"})
    assert messages(alice) == []
    assert [m["data"]["text"] for m in messages(bob_reader)] == ["bob's new plan"]


def test_authorize_asked_for_introductions_on_a_real_server() -> None:
    with live_server("tests.apps.hearing:served_app", async_mode="gevent") as server:
        with Client(server.url) as alice, Client(server.url) as bob, Client(server.url) as bob2:
            for socket, name in ((alice, "alice"), (bob, "bob"), (bob2, "bob")):
                assert socket.post("/login", {"name": name}).body == {"user": name}
            heard_by_alice, heard_by_bob = Inbox(alice), Inbox(bob)
            alice.get("/note")
            bob.get("/note")
            key = bob2.post("/note", {"owner": "bob", "text": "plan"}).body["id"]
            bob2.put(f"/note/{key}", {"text": "new plan"})
            assert [m.data["verb"] for m in heard_by_bob.wait(2)] == ["create", "update"]
            assert alice.get("/my/rooms").body == {"rooms": ["sockpub:model:note"]}
            assert [m.data["verb"] for m in heard_by_alice.items] == ["create"]


def test_introduce_asks_authorize(app: Flask) -> None:
    alice = logged_in(app, "alice")
    bob = logged_in(app, "bob")
    key = bob.post("/note", {"owner": "bob", "text": "bob's"}).body["id"]
    alice.get("/note")
    bob.get("/note")
    http = app.test_client()
    assert http.post(f"/notes/{key}/introduce").json == {"introduced": key}
    assert rooms_of(alice) == ["sockpub:model:note"]
    assert rooms_of(bob) == ["sockpub:model:note", f"sockpub:model:note:{key}"]


def test_a_model_without_authorize_introduces_the_whole_class_room(app: Flask) -> None:
    first, second = socket_of(app), socket_of(app)
    first.get("/member")
    second.get("/member")
    key = app.test_client().post("/member", json={"name": "carol"}).json["id"]
    for socket in (first, second):
        assert rooms_of(socket) == ["sockpub:model:member", f"sockpub:model:member:{key}"]


# Hidden fields belong to the model.


def test_publish_update_from_a_view_never_sends_a_field_the_blueprint_hides(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logged_in(app, "dave")
    listener, bystander = socket_of(app), socket_of(app)
    assert "password_hash" not in listener.get("/member").body[0]
    bystander.get("/public")
    app.test_client().post("/members/1/rename", json={"name": "david"})
    [update] = messages(listener)
    assert update["data"] == {"id": 1, "name": "david"}
    assert bystander.get("/me").body == {"user": None}
    assert "hash-of-dave" not in caplog.text
    assert caplog.records  # the access log did log the requests


def test_current_user_can_be_published_and_serialised(app: Flask) -> None:
    erin = logged_in(app, "erin")
    listener = socket_of(app)
    listener.get("/member")
    assert erin.get("/me/serialized").body == {"id": 1, "name": "erin"}
    assert erin.post("/me/publish", {"name": "erin2"}).body == {"published": True}
    [update] = messages(listener)
    assert update == {
        "model": "member",
        "verb": "update",
        "id": 1,
        "data": {"id": 1, "name": "erin2"},
    }


def test_a_field_the_model_declares_hidden_never_leaves(app: Flask) -> None:
    listener = socket_of(app)
    assert listener.post("/accounts/subscribe").body == {"subscribed": True}
    made = app.test_client().post("/accounts", json={"token": "t0ps3cret"})
    assert made.json == {"id": 1}
    [created] = messages(listener)
    assert created["data"] == {"id": 1}


# Session fixation with server-side sessions.


def test_a_login_over_a_socket_rotates_the_session_and_the_page_follows(redis_app: Flask) -> None:
    attacker = redis_app.test_client()
    attacker.post("/value", json={"value": "planted"})
    planted = attacker.get("/cookie").json["cookie"]
    assert planted
    victim = redis_app.test_client()
    victim.set_cookie("session", planted)
    socket = socket_of(redis_app, victim)
    bystander = logged_in(redis_app, "mallory")

    login = socket.post("/login", {"name": "victim"})
    # The planted id is worth nothing now.
    assert attacker.get("/me").json == {"user": None}
    assert socket.get("/me").body == {"user": "victim"}
    assert bystander.get("/me").body == {"user": "mallory"}
    assert login.headers[IDENTITY_CHANGED_HEADER] == "1"
    follow = login.headers[SESSION_FOLLOW_HEADER]
    # Only the page that opened the socket, from its own origin, once, follows.
    stranger = redis_app.test_client()
    assert stranger.post(follow).status_code == 403
    assert victim.post(follow, headers={"Origin": "https://evil.example"}).status_code == 403
    followed = victim.post(follow)
    assert followed.status_code == 204
    assert victim.get("/me").json == {"user": "victim"}
    assert victim.get("/cookie").json["cookie"] != planted
    assert victim.post(follow).status_code == 404
    assert socket.get("/me").body == {"user": "victim"}


def test_a_session_the_app_rotates_over_a_socket_is_followed_by_the_page(redis_app: Flask) -> None:
    page = redis_app.test_client()
    page.post("/login", json={"name": "grace"})
    socket = socket_of(redis_app, page)
    bystander = logged_in(redis_app, "mallory")
    rotated = socket.post("/rotate")
    assert bystander.get("/me").body == {"user": "mallory"}
    # The old id is gone: the page is logged out until it follows.
    assert page.get("/me").json == {"user": None}
    assert page.post(rotated.headers[SESSION_FOLLOW_HEADER]).status_code == 204
    assert page.get("/me").json == {"user": "grace"}
    assert socket.get("/me").body == {"user": "grace"}
    assert IDENTITY_CHANGED_HEADER not in rotated.headers
