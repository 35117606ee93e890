"""An app served by several processes on one message queue, for the cluster tests.

Served by ``live_server("tests.apps.cluster:create_app", env=...)`` once per
process. The environment gives the queue and the database the processes share:
``FLASK_SOCKPUB_MESSAGE_QUEUE``, ``FLASK_SOCKPUB_QUEUE_CHANNEL``,
``FLASK_SOCKPUB_HEARTBEAT_INTERVAL`` ... (read by ``from_prefixed_env``) and
``SOCKPUB_TEST_DATABASE`` (an SQLite file made by :func:`create_database`). Without them it is one process on
an in-memory database, for the same views without a queue.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import PubSub, SockPub, current_socket, listen
from flask_sockpub.rooms.model_rooms import CLASS_ROOM
from flask_sockpub.state import app_state
from tests.databases import create_shared_sqlite

db = SQLAlchemy()


class User(PubSub, db.Model):  # type: ignore[name-defined,misc]
    # Never reuse the id of a destroyed user: each round's messages name its own.
    __table_args__ = {"sqlite_autoincrement": True}
    # Never in a message, whichever process publishes (flask sockpub publish too).
    __sockpub_hidden__ = ("secret",)

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    secret = db.Column(db.String(80), nullable=True)


class Post(db.Model):  # type: ignore[name-defined,misc]
    """Scoped per owner (the ``X-Owner`` header): sockets hear a post while it is their owner's."""

    __table_args__ = {"sqlite_autoincrement": True}

    id = db.Column(db.Integer, primary_key=True)
    owner = db.Column(db.String(20), nullable=False)
    title = db.Column(db.String(80), nullable=False)


def owners_posts() -> Any:
    return Post.owner == request.headers.get("X-Owner", "")


def create_database(path: str) -> None:
    """Make the SQLite file the processes share, before they start (at once)."""
    create_shared_sqlite(db.metadata, path)


def create_app(**config: Any) -> Flask:
    app = Flask(__name__)
    database = os.environ.get("SOCKPUB_TEST_DATABASE")
    app.config.update(
        SECRET_KEY="cluster-secret",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}" if database else "sqlite://",
        # Three processes write one SQLite file: wait for its lock rather than fail.
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 30}},
        **config,
    )
    app.config.from_prefixed_env("FLASK")
    db.init_app(app)
    sockpub = SockPub(app, db=db)
    sockpub.blueprint(User)
    sockpub.blueprint(Post, scope=owners_posts)
    if not database:
        with app.app_context():
            db.create_all()

    def arguments() -> dict[str, Any]:
        return request.get_json(silent=True) or {}

    def instances(values: dict[str, Any]) -> Any:
        return values["ids"] if "ids" in values else CLASS_ROOM

    def listing(found: Any) -> dict[str, Any]:
        return {"sids": sorted(socket.id for socket in found), "complete": found.complete}

    @app.get("/cluster/me")
    def me() -> Any:
        cluster = app_state().rooms.cluster
        return {
            "host": cluster.host_id if cluster else None,
            "sid": current_socket.id if current_socket else None,
        }

    @app.get("/cluster/rooms")
    def rooms() -> Any:
        return {"rooms": sorted(current_socket.rooms)}

    @app.get("/cluster/user-subscribers")
    def user_subscribers() -> Any:
        timeout = request.args.get("timeout", type=float)
        return listing(User.subscribers(request.args.get("id"), timeout=timeout))

    @app.get("/cluster/listen/<room>")
    def join(room: str) -> Any:
        return {"listening": listen(room)}

    @app.get("/cluster/listeners/<room>")
    def listeners(room: str) -> Any:
        return listing(sockpub.subscribers(room, timeout=request.args.get("timeout", type=float)))

    @app.post("/cluster/subscribe")
    def subscribe() -> Any:
        values = arguments()
        return {"subscribed": User.subscribe(values["sid"], instances(values))}

    @app.post("/cluster/unsubscribe")
    def unsubscribe() -> Any:
        values = arguments()
        return {"unsubscribed": User.unsubscribe(values["sid"], instances(values))}

    @app.post("/cluster/introduce")
    def introduce() -> Any:
        User.introduce(arguments()["id"])
        return {"introduced": True}

    @app.post("/cluster/destroy")
    def destroy() -> Any:
        values = arguments()
        User.publish_destroy(values["id"], omit=values.get("omit"))
        return {"destroyed": True}

    return app
