"""Scoped rooms: a socket subscribed under a blueprint's ``scope=`` hears a row only while the scope selects it.

The sockets are test-client sockets (no network): what is under test is which
sockets a publish reaches, decided in the server process. The databases are
real (SQLite, PostgreSQL, MariaDB), and every socket's picture of the rows,
kept from its messages, is checked against running its scope's query there.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, request
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import SockPub
from flask_sockpub.rooms.scoped import registered
from flask_sockpub.testing import SocketTestClient
from tests.databases import mariadb_database, postgres_database

db = SQLAlchemy()


class Post(db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.Integer, nullable=False)
    title = db.Column(db.String(40), nullable=False)
    public = db.Column(db.Boolean, nullable=False, default=False)


def owner() -> int:
    """The requester's owner id (an app would use ``current_user.id``)."""
    return int(request.headers.get("X-Owner", "0"))


def readable() -> Any:
    """The posts a requester may read: the public ones, and its own."""
    return sa.or_(Post.public == True, Post.owner_id == owner())  # noqa: E712


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('scoped') / 'posts.sqlite'}"
    elif request.param == "postgresql":
        with postgres_database("sockpub_scoped") as url:
            yield url
    else:
        with mariadb_database("sockpub_scoped") as url:
            yield url


def make_app(url: str, style: str = "message", **options: Any) -> tuple[Flask, SockPub]:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", SQLALCHEMY_DATABASE_URI=url, SOCKPUB_EVENT_STYLE=style)
    db.init_app(app)
    sockpub = SockPub(app, db=db)
    sockpub.blueprint(Post, **({"scope": readable} | options))
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app, sockpub


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'posts.sqlite'}"


def as_owner(number: int) -> dict[str, str]:
    return {"X-Owner": str(number)}


@dataclass
class Reader:
    """A socket that listed the posts under its owner's scope, and its picture of them from its messages."""

    socket: SocketTestClient
    owner: int
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)

    def list(self) -> None:
        answer = self.socket.get("/post", {"limit": "1000"}, headers=as_owner(self.owner))
        assert answer.status_code == 200, answer.body
        self.rows = {row["id"]: row for row in answer.body}

    def take_messages(self) -> list[dict[str, Any]]:
        """Apply what arrived since the last call; each message must concern the picture as it stands."""
        taken = []
        for item in self.socket.received("message"):
            message = item.data
            taken.append(message)
            verb, key = message["verb"], message["id"]
            if verb in ("create", "enter"):
                assert key not in self.rows, (self.owner, message)
                self.rows[key] = message["data"]
            elif verb == "update":
                assert key in self.rows, (self.owner, message)
                self.rows[key] = message["data"]
            else:  # destroy, leave: the row is gone from its scope
                assert verb in ("destroy", "leave"), message
                assert "data" not in message
                assert key in self.rows, (self.owner, message)
                del self.rows[key]
        return taken


def records_in_database(app: Flask, number: int) -> dict[int, dict[str, Any]]:
    """What owner ``number``'s scope selects, queried in the database."""
    condition = sa.or_(Post.public == True, Post.owner_id == number)  # noqa: E712
    with app.app_context():
        rows = db.session.scalars(sa.select(Post).where(condition)).all()
        return {
            row.id: {
                "id": row.id,
                "owner_id": row.owner_id,
                "title": row.title,
                "public": row.public,
            }
            for row in rows
        }


# Done when 1: two owners, 50 sockets each, changes by both over sockets and HTTP.


@pytest.mark.parametrize("publishing", ["views", "autopublish"])
def test_every_socket_hears_exactly_the_rows_its_scope_selects(
    database_url: str, publishing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Published by the views, or after each commit by automatic publishing.
    monkeypatch.setattr(Post, "__sockpub_autopublish__", publishing == "autopublish", raising=False)
    app, sockpub = make_app(database_url)
    readers = [Reader(sockpub.test_client(app), number) for number in (1, 2) for _ in range(50)]
    # A third scope overlapping both: the public posts only (an owner with no posts).
    readers += [Reader(sockpub.test_client(app), 3) for _ in range(5)]
    for reader in readers:
        reader.list()
    writers: dict[int, Any] = {number: sockpub.test_client(app) for number in (1, 2)}
    http: FlaskClient = app.test_client()
    generator = random.Random(20)
    verbs_heard: set[str] = set()

    def call(number: int, method: str, url: str, body: Any = None) -> Any:
        if generator.random() < 0.5:
            answer = writers[number].request(method, url, body, headers=as_owner(number))
            return answer.status_code, answer.body
        answer = http.open(url, method=method, json=body, headers=as_owner(number))
        return answer.status_code, answer.get_json()

    for step in range(60):
        number = generator.choice((1, 2))
        visible = sorted(records_in_database(app, number))
        action = generator.choice(["create", "create", "title", "public", "owner", "destroy"])
        if action == "create" or not visible:
            body = {
                "owner_id": generator.choice((1, 2)),  # sometimes for the other owner
                "title": f"post {step}",
                "public": generator.random() < 0.4,
            }
            status, _ = call(number, "POST", "/post", body)
            assert status == 201
        else:
            key = generator.choice(visible)
            row = records_in_database(app, number)[key]
            if action == "title":
                change: dict[str, Any] = {"title": f"edited {step}"}
            elif action == "public":
                change = {"public": not row["public"]}
            elif action == "owner":
                change = {"owner_id": 3 - row["owner_id"]}
            else:
                change = {}
            if change:
                status, _ = call(number, "PATCH", f"/post/{key}", change)
            else:
                status, _ = call(number, "DELETE", f"/post/{key}")
            assert status == 200
        truth = {number: records_in_database(app, number) for number in (1, 2, 3)}
        for reader in readers:
            verbs_heard.update(message["verb"] for message in reader.take_messages())
            assert reader.rows == truth[reader.owner], (step, action, reader.owner)
    # The sequence went through every case the test is for.
    assert verbs_heard == {"create", "update", "destroy", "leave", "enter"}
    with app.app_context():
        db.drop_all()


# Done when 2: the made-private post.


def made_private_app(url: str, how: str, style: str) -> tuple[Flask, SockPub]:
    if how == "scope":
        return make_app(url, style)

    def may_read(socket: Any, post: Any) -> bool:
        return post is None or post.public or post.owner_id == owner()

    return make_app(url, style, scope=None, authorize=may_read, reauthorize=True)


@pytest.mark.parametrize("how", ["scope", "reauthorize"])
@pytest.mark.parametrize("style", ["message", "model"])
def test_a_post_made_private_ends_its_readers_subscriptions(
    sqlite_url: str, how: str, style: str
) -> None:
    app, sockpub = made_private_app(sqlite_url, how, style)
    # A hook asked again runs in the socket's own context: its handshake says who it is.
    author, reader, writer = (
        sockpub.test_client(app, headers=as_owner(number)) for number in (1, 2, 1)
    )
    post = writer.post(
        "/post", {"owner_id": 1, "title": "hello", "public": True}, headers=as_owner(1)
    ).body
    assert reader.get(f"/post/{post['id']}", headers=as_owner(2)).status_code == 200
    assert author.get(f"/post/{post['id']}", headers=as_owner(1)).status_code == 200
    writer.patch(f"/post/{post['id']}", {"public": False}, headers=as_owner(1))
    writer.patch(f"/post/{post['id']}", {"title": "private body"}, headers=as_owner(1))
    heard = [item.data for item in reader.received()]
    author_heard = [item.data for item in author.received()]
    if style == "message":
        assert heard == [{"model": "post", "verb": "leave", "id": post["id"]}]
        assert [message["verb"] for message in author_heard] == ["update", "update"]
    else:
        assert heard == [{"verb": "left", "id": post["id"]}]
        assert [message["verb"] for message in author_heard] == ["updated", "updated"]
    assert author_heard[-1]["data"]["title"] == "private body"
    # Reading it again does not subscribe it again (scope: 404; authorize: the answer, unsubscribed).
    again = reader.get(f"/post/{post['id']}", headers=as_owner(2))
    assert again.status_code == (404 if how == "scope" else 200)
    writer.patch(f"/post/{post['id']}", {"title": "still private"}, headers=as_owner(1))
    assert reader.received() == []
    assert len(author.received()) == 1


# The pieces


def test_a_requester_is_subscribed_to_what_it_creates_only_inside_its_scope(
    sqlite_url: str,
) -> None:
    app, sockpub = make_app(sqlite_url)
    creator, other = sockpub.test_client(app), sockpub.test_client(app)
    theirs = creator.post("/post", {"owner_id": 2, "title": "for 2"}, headers=as_owner(1)).body
    mine = creator.post("/post", {"owner_id": 1, "title": "mine"}, headers=as_owner(1)).body
    other.patch(f"/post/{theirs['id']}", {"title": "2's secret"}, headers=as_owner(2))
    other.patch(f"/post/{mine['id']}", {"public": True}, headers=as_owner(1))
    assert [(item.data["verb"], item.data["id"]) for item in creator.received()] == [
        ("update", mine["id"])
    ]


def test_a_scoped_list_hears_creates_inside_its_scope_only(sqlite_url: str) -> None:
    app, sockpub = make_app(sqlite_url)
    lister, writer = sockpub.test_client(app), sockpub.test_client(app)
    assert lister.get("/post", headers=as_owner(1)).body == []
    inside = writer.post("/post", {"owner_id": 1, "title": "a"}, headers=as_owner(2)).body
    writer.post("/post", {"owner_id": 2, "title": "b"}, headers=as_owner(2))
    public = writer.post(
        "/post", {"owner_id": 2, "title": "c", "public": True}, headers=as_owner(2)
    ).body
    assert [item.data for item in lister.received()] == [
        {"model": "post", "verb": "create", "id": inside["id"], "data": inside},
        {"model": "post", "verb": "create", "id": public["id"], "data": public},
    ]
    # ...and is subscribed to them: it hears their updates.
    writer.patch(f"/post/{public['id']}", {"title": "c2"}, headers=as_owner(2))
    assert [item.data["verb"] for item in lister.received()] == ["update"]


def test_a_row_entering_a_scope_is_introduced_with_its_record(sqlite_url: str) -> None:
    app, sockpub = make_app(sqlite_url)
    lister, writer = sockpub.test_client(app), sockpub.test_client(app)
    post = writer.post("/post", {"owner_id": 2, "title": "hidden"}, headers=as_owner(2)).body
    lister.get("/post", headers=as_owner(1))
    shown = writer.patch(f"/post/{post['id']}", {"public": True}, headers=as_owner(2)).body
    writer.patch(f"/post/{post['id']}", {"title": "now seen"}, headers=as_owner(2))
    heard = [item.data for item in lister.received()]
    assert heard[0] == {"model": "post", "verb": "enter", "id": post["id"], "data": shown}
    assert [message["verb"] for message in heard[1:]] == ["update"]


def test_scopes_and_scoped_rooms_go_when_their_sockets_go(sqlite_url: str) -> None:
    app, sockpub = make_app(sqlite_url)
    server = app.extensions["sockpub"].server
    sockets = [sockpub.test_client(app) for _ in range(3)]
    post = sockets[0].post("/post", {"owner_id": 1, "title": "x"}, headers=as_owner(1)).body
    for number, socket in enumerate(sockets, start=1):
        socket.get("/post", headers=as_owner(number))
        socket.get(f"/post/{post['id']}", headers=as_owner(number))
    assert len(registered(server, "post")) == 3
    for socket in sockets:
        socket.disconnect()
    assert registered(server) == {}
    rooms = server.manager.rooms.get("/", {})
    assert [
        room for room in rooms if isinstance(room, str) and room.startswith("sockpub:scope:")
    ] == []


def test_a_scope_no_socket_holds_any_more_is_forgotten_when_its_row_leaves(sqlite_url: str) -> None:
    app, sockpub = make_app(sqlite_url)
    server = app.extensions["sockpub"].server
    reader, writer = sockpub.test_client(app), app.test_client()  # HTTP: subscribes nothing
    body = {"owner_id": 1, "title": "x", "public": True}
    post = writer.post("/post", json=body, headers=as_owner(1)).get_json()
    reader.get(f"/post/{post['id']}", headers=as_owner(2))
    assert len(registered(server, "post")) == 1
    writer.patch(f"/post/{post['id']}", json={"public": False}, headers=as_owner(1))
    assert registered(server) == {}


def test_an_opaque_query_answers_but_subscribes_nothing_and_warns_once(sqlite_url: str) -> None:
    with pytest.warns(UserWarning, match="scope=") as warned:
        app, sockpub = make_app(
            sqlite_url, scope=None, query=lambda: sa.select(Post).where(Post.owner_id == owner())
        )
    assert len(warned) == 1
    lister, writer = sockpub.test_client(app), sockpub.test_client(app)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lister.get("/post", headers=as_owner(1)).body == []
        post = writer.post("/post", {"owner_id": 1, "title": "x"}, headers=as_owner(1)).body
        assert lister.get(f"/post/{post['id']}", headers=as_owner(1)).body == post
    writer.patch(f"/post/{post['id']}", {"title": "y"}, headers=as_owner(1))
    assert lister.received() == []


def test_scope_and_query_together_are_refused(sqlite_url: str) -> None:
    with pytest.raises(ValueError, match="scope= or query="):
        make_app(sqlite_url, query=lambda: sa.select(Post))


def test_a_scope_on_a_hidden_column_follows_its_changes(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Clients never see nor write owner_id here; the app changes it, published automatically.
    monkeypatch.setattr(Post, "__sockpub_autopublish__", True, raising=False)
    app, sockpub = make_app(sqlite_url, hidden=["owner_id"])
    lister = sockpub.test_client(app)
    assert lister.get("/post", headers=as_owner(1)).body == []
    with app.app_context():
        post = Post(owner_id=1, title="mine")
        db.session.add(post)
        db.session.commit()
        key = post.id
        post.owner_id = 2  # only a hidden column changes
        db.session.commit()
    assert [item.data for item in lister.received()] == [
        {
            "model": "post",
            "verb": "create",
            "id": key,
            "data": {"id": key, "title": "mine", "public": False},
        },
        {"model": "post", "verb": "leave", "id": key},
    ]
