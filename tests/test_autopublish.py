"""Every change a commit makes to an automatically published model is published, once, after the commit.

The app's code commits through the Flask-SQLAlchemy session (plain views, a
background task, a blueprint, a CLI command in another process with a
queue) and never calls a ``publish_*`` method; sockets that listed the class
room hear what was committed, in both event styles.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from flask_sockpub.client import Client
from flask_sockpub.testing import Inbox, Received, SocketTestClient, live_servers
from tests.apps.autopublish import Item, create_app, create_database, db

STYLES = ("message", "model")


def event_of(style: str) -> str:
    return "message" if style == "message" else "item"


def created(style: str, key: int, data: dict[str, Any], model: str = "item") -> Received:
    if style == "message":
        return Received("message", {"model": model, "verb": "create", "id": key, "data": data})
    return Received(model, {"verb": "created", "id": key, "data": data})


def updated(style: str, key: int, data: dict[str, Any], previous: dict[str, Any]) -> Received:
    if style == "message":
        return Received("message", {"model": "item", "verb": "update", "id": key, "data": data})
    return Received("item", {"verb": "updated", "id": key, "data": data, "previous": previous})


def destroyed(style: str, key: int, previous: dict[str, Any]) -> Received:
    if style == "message":
        return Received("message", {"model": "item", "verb": "destroy", "id": key})
    return Received("item", {"verb": "destroyed", "id": key, "previous": previous})


def item(key: int, name: str, count: int = 0) -> dict[str, Any]:
    return {"id": key, "name": name, "count": count}


@pytest.fixture(params=STYLES)
def style(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app(style: str) -> Flask:
    return create_app(SOCKPUB_EVENT_STYLE=style)


@pytest.fixture
def listener(app: Flask) -> Iterator[SocketTestClient]:
    """A socket that listed ``/item``: in the class room, hearing every create."""
    socket = app.extensions["sockpub"].sockpub.test_client(app)
    assert socket.get("/item").status_code == 200
    yield socket
    socket.disconnect()


def test_a_plain_view_publishes_each_commit_once_and_the_listing_socket_is_introduced(
    app: Flask, listener: SocketTestClient, style: str
) -> None:
    http = app.test_client()
    key = http.post("/plain/items", json={"name": "lamp"}).get_json()["id"]
    assert http.put(f"/plain/items/{key}", json={"name": "desk lamp"}).status_code == 200
    assert http.delete(f"/plain/items/{key}").status_code == 200
    assert listener.received() == [
        created(style, key, item(key, "lamp")),
        updated(style, key, item(key, "desk lamp"), previous=item(key, "lamp")),
        destroyed(style, key, previous=item(key, "desk lamp")),
    ]


def test_a_blueprint_publishes_once_over_sockets_and_http_and_omits_the_requesting_socket(
    app: Flask, listener: SocketTestClient, style: str
) -> None:
    writer = app.extensions["sockpub"].sockpub.test_client(app)
    made = writer.post("/item", {"name": "chair"})
    assert made.status_code == 201
    key = made.body["id"]
    renamed = app.test_client().patch(f"/item/{key}", json={"count": 4})
    assert renamed.status_code == 200
    assert writer.delete(f"/item/{key}").status_code == 200
    assert listener.received() == [
        created(style, key, item(key, "chair")),
        updated(style, key, item(key, "chair", 4), previous=item(key, "chair")),
        destroyed(style, key, previous=item(key, "chair", 4)),
    ]
    # The writer joined the item's room by creating it, and heard the HTTP
    # update, but not its own create and destroy.
    assert writer.received() == [updated(style, key, item(key, "chair", 4), item(key, "chair"))]
    writer.disconnect()


def test_a_blueprint_with_mirror_sends_the_requesting_socket_its_own_changes(style: str) -> None:
    app = create_app(SOCKPUB_EVENT_STYLE=style, SOCKPUB_TEST_MIRROR=True)
    writer = app.extensions["sockpub"].sockpub.test_client(app)
    assert writer.get("/item").status_code == 200
    key = writer.post("/item", {"name": "mine"}).body["id"]
    assert writer.received() == [created(style, key, item(key, "mine"))]
    writer.disconnect()


def test_a_background_task_committing_in_its_own_app_context_publishes_once(
    app: Flask, listener: SocketTestClient, style: str
) -> None:
    assert app.test_client().post("/task/items", json={"name": "late"}).status_code == 200
    with app.app_context():
        key = db.session.scalars(sa.select(Item.id)).one()
    assert listener.received() == [created(style, key, item(key, "late"))]


def test_a_rolled_back_transaction_publishes_nothing(
    app: Flask, listener: SocketTestClient
) -> None:
    with app.app_context():
        db.session.add(Item(name="never"))
        db.session.flush()
        db.session.rollback()
        db.session.add(Item(name="kept"))
        db.session.commit()
    [only] = listener.received()
    assert only.data["data"]["name"] == "kept"


def test_a_rolled_back_savepoint_drops_only_its_own_changes(
    app: Flask, listener: SocketTestClient, style: str
) -> None:
    with app.app_context():
        outer = Item(name="outer")
        db.session.add(outer)
        savepoint = db.session.begin_nested()
        db.session.add(Item(name="inner, dropped"))
        outer.count = 99
        db.session.flush()
        savepoint.rollback()
        released = db.session.begin_nested()
        db.session.add(Item(name="inner, kept"))
        released.commit()
        db.session.commit()
        keys = db.session.scalars(sa.select(Item.id).order_by(Item.id)).all()
    assert len(keys) == 2
    assert listener.received() == [
        created(style, keys[0], item(keys[0], "outer")),
        created(style, keys[1], item(keys[1], "inner, kept")),
    ]


def test_a_commit_touching_a_hundred_rows_publishes_a_hundred_messages(
    app: Flask, listener: SocketTestClient
) -> None:
    with app.app_context():
        db.session.add_all(Item(name=f"item {number}") for number in range(100))
        db.session.commit()
    received = listener.received()
    assert len(received) == 100
    assert [message.data["data"]["name"] for message in received] == [
        f"item {number}" for number in range(100)
    ]


def test_a_row_inserted_and_deleted_in_one_transaction_publishes_nothing(
    app: Flask, listener: SocketTestClient
) -> None:
    with app.app_context():
        gone = Item(name="gone")
        db.session.add(gone)
        db.session.flush()
        db.session.delete(gone)
        db.session.commit()
    assert listener.received() == []


def test_an_update_that_changes_no_column_publishes_nothing(
    app: Flask, listener: SocketTestClient, style: str
) -> None:
    with app.app_context():
        kept = Item(name="same")
        db.session.add(kept)
        db.session.commit()
        key = kept.id
        assert len(listener.received()) == 1
        kept.name = "same"  # set, unchanged
        db.session.commit()
        kept.name = "other"
        db.session.flush()
        kept.name = "same"  # changed and changed back within the transaction
        db.session.commit()
    assert listener.get(f"/item/{key}").status_code == 200
    assert listener.received() == []


def test_a_row_created_then_updated_in_one_transaction_publishes_one_create_with_the_committed_values(
    app: Flask, listener: SocketTestClient, style: str
) -> None:
    with app.app_context():
        new = Item(name="draft")
        db.session.add(new)
        db.session.flush()
        new.name = "final"
        new.count = 2
        db.session.flush()
        db.session.commit()
        key = new.id
    assert listener.received() == [created(style, key, item(key, "final", 2))]


def test_an_expired_row_changed_without_being_read_publishes_its_previous_values(
    app: Flask, listener: SocketTestClient, style: str
) -> None:
    with app.app_context():
        row = Item(name="before", count=1)
        db.session.add(row)
        db.session.commit()  # expires the row
        key = row.id
        row.name = "after"  # set without loading: the old value is read at the flush
        db.session.commit()
        db.session.delete(row)  # expired again: its values are read before the delete
        db.session.commit()
    assert listener.received()[1:] == [
        updated(style, key, item(key, "after", 1), previous=item(key, "before", 1)),
        destroyed(style, key, previous=item(key, "after", 1)),
    ]


def test_auto_publish_publishes_every_pubsub_model_but_those_that_opt_out(style: str) -> None:
    for setting, expected in ((False, 0), (True, 1)):
        app = create_app(SOCKPUB_EVENT_STYLE=style, SOCKPUB_AUTO_PUBLISH=setting)
        socket = app.extensions["sockpub"].sockpub.test_client(app)
        for path in ("/note", "/tag"):
            assert socket.get(path).status_code == 200
        made = app.test_client().post("/plain/notes", json={"text": "hi"}).get_json()
        assert (
            socket.received()
            == [created(style, made["note"], {"id": made["note"], "text": "hi"}, model="note")][
                :expected
            ]
        )
        socket.disconnect()


def test_bulk_statements_are_not_published(app: Flask, listener: SocketTestClient) -> None:
    with app.app_context():
        db.session.add(Item(name="bulk"))
        db.session.commit()
        listener.received()
        db.session.execute(sa.update(Item).values(count=5))
        db.session.execute(sa.delete(Item))
        db.session.commit()
    assert listener.received() == []


def test_a_cli_command_without_a_queue_warns_once_that_nobody_can_hear(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    runner = app.test_cli_runner()
    with caplog.at_level(logging.WARNING, logger="flask_sockpub"):
        for name in ("first", "second"):
            result = runner.invoke(args=["add-item", name])
            assert result.exit_code == 0, result.output
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1
    assert "SOCKPUB_MESSAGE_QUEUE is not set" in warnings[0]
    assert "nobody can hear it" in warnings[0]


# A CLI command in a process of its own, with a queue, against a live server


@pytest.fixture(scope="module", params=STYLES)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    database = tmp_path_factory.mktemp("autopublish") / "app.db"
    create_database(str(database))
    env = {
        "FLASK_SOCKPUB_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0",
        "FLASK_SOCKPUB_QUEUE_CHANNEL": f"sockpub-test-{uuid.uuid4().hex}",
        "FLASK_SOCKPUB_EVENT_STYLE": request.param,
        "SOCKPUB_TEST_DATABASE": str(database),
    }
    with live_servers("tests.apps.autopublish:create_app", 1, env=env) as [server]:
        yield request.param, env, server


def test_a_cli_command_in_its_own_process_publishes_each_commit_once_through_the_queue(
    served: Any,
) -> None:
    style, env, server = served
    root = Path(__file__).resolve().parent.parent
    with Client(server.url) as client:
        inbox = Inbox(client, event_of(style))
        assert client.get("/item").status_code == 200
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "tests.apps.autopublish:create_app"]
            + ["add-item", "from the command line"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=root,
            env={**os.environ, **env, "PYTHONPATH": str(root)},
        )
        assert done.returncode == 0, done.stderr
        key = int(done.stdout.split()[-1])
        inbox.wait(3, timeout=10)
        name = "from the command line"
        assert inbox.quiet(0.2) == [
            created(style, key, item(key, name)),
            updated(style, key, item(key, f"{name}, renamed"), previous=item(key, name)),
            destroyed(style, key, previous=item(key, f"{name}, renamed")),
        ]
        assert "WARNING" not in done.stderr


def test_a_socket_hears_creates_and_then_updates_of_rows_changed_over_http_and_sockets(
    served: Any,
) -> None:
    style, _, server = served
    with Client(server.url) as listening, Client(server.url) as writing:
        inbox = Inbox(listening, event_of(style))
        assert listening.get("/item").status_code == 200
        made = writing.post("/plain/items", {"name": "over a socket"})
        key = made.body["id"]
        renamed = writing.put(f"/plain/items/{key}", {"name": "renamed over a socket"})
        assert renamed.status_code == 200
        over_http = requests.put(
            f"{server.url}/plain/items/{key}", json={"name": "renamed over HTTP"}, timeout=30
        )
        assert over_http.status_code == 200
        inbox.wait(3, timeout=10)
        assert inbox.quiet(0.2) == [
            created(style, key, item(key, "over a socket")),
            updated(
                style,
                key,
                item(key, "renamed over a socket"),
                previous=item(key, "over a socket"),
            ),
            updated(
                style,
                key,
                item(key, "renamed over HTTP"),
                previous=item(key, "renamed over a socket"),
            ),
        ]
