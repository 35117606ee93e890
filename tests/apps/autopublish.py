"""An app whose models publish every committed change by themselves, for the automatic publishing tests.

``Item`` opts in (``__sockpub_autopublish__ = True``) and has a CRUD
blueprint; ``Note`` is a ``PubSub`` model that publishes automatically only
with ``SOCKPUB_AUTO_PUBLISH``; ``Tag`` opts out even then. Plain views,
a background task and CLI commands change items the way an app's own code
would, never calling a ``publish_*`` method.

Served in a subprocess (``tests.apps.autopublish:create_app``), the
environment gives the queue and the database a CLI process shares with the
server: ``FLASK_SOCKPUB_MESSAGE_QUEUE``, ``FLASK_SOCKPUB_QUEUE_CHANNEL``,
``FLASK_SOCKPUB_EVENT_STYLE`` (read by ``from_prefixed_env``) and
``SOCKPUB_TEST_DATABASE`` (an SQLite file made by :func:`create_database`).
"""

from __future__ import annotations

import os
from typing import Any

import click
from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import PubSub, SockPub
from tests.databases import create_shared_sqlite

db = SQLAlchemy()


class Item(PubSub, db.Model):  # type: ignore[name-defined,misc]
    __sockpub_autopublish__ = True
    __table_args__ = {"sqlite_autoincrement": True}

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    count = db.Column(db.Integer, nullable=False, default=0)


class Note(PubSub, db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    text = db.Column(db.String(80))


class Tag(PubSub, db.Model):  # type: ignore[name-defined,misc]
    __sockpub_autopublish__ = False

    id = db.Column(db.Integer, primary_key=True)
    text = db.Column(db.String(80))


def create_database(path: str) -> None:
    """Make the SQLite file a server and a CLI process share."""
    create_shared_sqlite(db.metadata, path)


def create_app(**config: Any) -> Flask:
    app = Flask(__name__)
    database = os.environ.get("SOCKPUB_TEST_DATABASE")
    app.config.update(
        SECRET_KEY="autopublish-secret",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}" if database else "sqlite://",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 30}},
        **config,
    )
    app.config.from_prefixed_env("FLASK")
    db.init_app(app)
    sockpub = SockPub(app, db=db)
    # SOCKPUB_TEST_MIRROR: the item blueprint sends a requester its own changes.
    sockpub.blueprint(Item, mirror=bool(app.config.get("SOCKPUB_TEST_MIRROR")))
    sockpub.blueprint(Note)
    sockpub.blueprint(Tag)
    if not database:
        with app.app_context():
            db.create_all()

    def values() -> dict[str, Any]:
        return request.get_json(silent=True) or {}

    @app.post("/plain/items")
    def add_item() -> Any:
        item = Item(name=values()["name"])
        db.session.add(item)
        db.session.commit()
        return {"id": item.id}, 201

    @app.put("/plain/items/<int:key>")
    def rename_item(key: int) -> Any:
        item = db.get_or_404(Item, key)
        item.name = values()["name"]
        db.session.commit()
        return {"id": key}

    @app.delete("/plain/items/<int:key>")
    def remove_item(key: int) -> Any:
        db.session.delete(db.get_or_404(Item, key))
        db.session.commit()
        return {"id": key}

    @app.post("/plain/notes")
    def add_note() -> Any:
        note, tag = Note(text=values()["text"]), Tag(text=values()["text"])
        db.session.add_all([note, tag])
        db.session.commit()
        return {"note": note.id, "tag": tag.id}, 201

    @app.post("/task/items")
    def add_item_in_background() -> Any:
        name = values()["name"]

        def add() -> None:
            with app.app_context():
                db.session.add(Item(name=name))
                db.session.commit()

        sockpub.socketio.start_background_task(add).join()
        return {"added": name}

    @app.cli.command("add-item")
    @click.argument("name")
    def add_item_command(name: str) -> None:
        """Add an item, rename it, remove it: three commits."""
        item = Item(name=name)
        db.session.add(item)
        db.session.commit()
        item.name = f"{name}, renamed"
        db.session.commit()
        db.session.delete(item)
        db.session.commit()
        click.echo(item.id)

    return app
