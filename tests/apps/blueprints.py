"""An app of CRUD blueprints, one per option worth testing, on SQLite or PostgreSQL.

Served by ``live_server("tests.apps.blueprints:create_app", env={"DATABASE_URL": ...})``.
``POST /_testing/reset`` empties every table and seeds the criteria rows, so
each test starts from the same data; ``/_testing/...`` views let tests count
rows and room members without a second connection to the database.
"""

from __future__ import annotations

import functools
import os
import uuid
from datetime import datetime, timezone
from typing import Any

from flask import Flask, abort, make_response, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from flask_sockpub import PubSub, SockPub, current_socket
from tests.criteria_data import Base as CriteriaBase
from tests.criteria_data import Person, people

db = SQLAlchemy()
sockpub = SockPub(db=db)


class User(PubSub, db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(20), nullable=False, unique=True)
    email = db.Column(db.String(80))
    age = db.Column(db.Integer)
    password_hash = db.Column(db.String(80))
    created = db.Column(db.DateTime, nullable=False, default=lambda: datetime.now(timezone.utc))


class Tag(PubSub, db.Model):  # type: ignore[name-defined,misc]
    """A text primary key, given by the client."""

    label = db.Column(db.String(30), primary_key=True)
    color = db.Column(db.String(10))


class Ticket(PubSub, db.Model):  # type: ignore[name-defined,misc]
    """A UUID primary key, made by the server."""

    id = db.Column(db.Uuid, primary_key=True, default=uuid.uuid4)
    title = db.Column(db.String(40), nullable=False)


class Note(PubSub, db.Model):  # type: ignore[name-defined,misc]
    """Scoped per owner: a request sees only the notes of its ``X-Owner`` header."""

    id = db.Column(db.Integer, primary_key=True)
    owner = db.Column(db.String(20), nullable=False)
    text = db.Column(db.String(80), nullable=False)


def owners_scope() -> Any:
    return Note.owner == request.headers.get("X-Owner", "")


def require_key(view: Any) -> Any:
    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if request.headers.get("X-Key") != "sesame":
            abort(401, "X-Key needed")
        return view(*args, **kwargs)

    return guarded


def tag_response(view: Any) -> Any:
    @functools.wraps(view)
    def tagged(*args: Any, **kwargs: Any) -> Any:
        response = make_response(view(*args, **kwargs))
        response.headers["X-Decorated"] = "yes"
        return response

    return tagged


# Made before init_app, registered on every app the factory makes.
sockpub.blueprint(User, hidden=["password_hash"], read_only=["created"])
sockpub.blueprint(Tag)
sockpub.blueprint(Ticket)
sockpub.blueprint(Person, hidden=["secret"])
sockpub.blueprint(Note, scope=owners_scope)
sockpub.blueprint(User, "/mirrored", name="mirrored", mirror=True, hidden=["password_hash"])
sockpub.blueprint(
    User, "/readable", name="readable", actions=["list", "get"], page_size=2, max_limit=3
)
sockpub.blueprint(User, "/guarded", name="guarded", decorators=[require_key])
sockpub.blueprint(
    User, "/tagged", name="tagged", decorators={"get": tag_response, "create": [require_key]}
)
sockpub.blueprint(User, "/short", name="short", shortcuts=True, hidden=["password_hash"])
sockpub.blueprint(
    User, "/even", name="even", authorize=lambda socket, user: user is not None and user.id % 2 == 0
)


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="test",
        SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL", "sqlite://"),
        SOCKPUB_EVENT_STYLE=os.environ.get("SOCKPUB_TEST_EVENT_STYLE", "message"),
    )
    db.init_app(app)
    sockpub.init_app(app)

    @app.post("/_testing/reset")
    def reset() -> Any:
        with db.engine.begin() as connection:
            CriteriaBase.metadata.drop_all(connection)
            db.metadata.drop_all(connection)
            db.metadata.create_all(connection)
            CriteriaBase.metadata.create_all(connection)
        # psycopg 3 prepares statements a connection repeats; they name the
        # dropped tables' types: start with fresh connections.
        db.engine.dispose()
        db.session.add_all(people())
        db.session.commit()
        return {"reset": True}

    @app.get("/watching/users")
    def watch_users() -> Any:
        """``current_socket.watch``: the users whose ids are in ``?ids=1,2``."""
        ids = [int(text) for text in request.args.get("ids", "").split(",") if text]
        users = db.session.scalars(select(User).where(User.id.in_(ids))).all()
        return {"watching": bool(current_socket) and current_socket.watch(users)}

    @app.get("/watching/user-creates")
    def subscribe_to_users() -> Any:
        """``current_socket.subscribe_to``: every new user, then its changes."""
        return {"watching": bool(current_socket) and current_socket.subscribe_to(User)}

    @app.get("/_testing/count/<model>")
    def count(model: str) -> Any:
        table = {"user": User, "tag": Tag, "ticket": Ticket, "note": Note, "person": Person}[model]
        return {"count": db.session.scalar(select(db.func.count()).select_from(table))}

    @app.get("/_testing/subscribers/<model>/<id>")
    def subscribers(model: str, id: str) -> Any:
        rooms = sockpub.model({"user": User, "note": Note}[model])
        return {
            "sockets": sorted(
                socket.id for socket in rooms.subscribers(None if id == "class" else id)
            )
        }

    return app
