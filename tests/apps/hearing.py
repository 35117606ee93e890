"""An app written as the docs say, for "who may hear what": Flask-Login, an authorize hook, hidden fields.

* ``Member`` is the Flask-Login user and a ``PubSub`` model whose blueprint
  hides ``password_hash``; views publish it and serialise ``current_user``.
* ``Note`` has a blueprint whose ``authorize`` lets a logged-in socket into the
  class room and only into the rooms of its own notes.
* ``Account`` declares ``__sockpub_hidden__`` and has no blueprint.
* Inboxes are rooms of :func:`~flask_sockpub.listen`, one per user.

``SOCKPUB_TEST_SESSION_TYPE=redis`` (with ``SOCKPUB_TEST_SESSION_KEY_PREFIX``
and ``SOCKPUB_TEST_REDIS_URL``) gives server-side sessions with Flask-Session;
without them, Flask's cookie sessions. ``create_app(**config)`` takes the same
keys directly.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, abort, request, send_from_directory, session
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import PubSub, SockPub, broadcast, current_socket, listen, param, serialize
from tests.apps.browser import PAGES

db = SQLAlchemy()
sockpub = SockPub(db=db)


class Member(UserMixin, PubSub, db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), unique=True, nullable=False)
    password_hash = db.Column(db.String(200), nullable=False, default="")


class Note(PubSub, db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    owner = db.Column(db.String(80), nullable=False)
    text = db.Column(db.String(200), nullable=False)


class Account(PubSub, db.Model):  # type: ignore[name-defined,misc]
    __sockpub_hidden__ = ("token",)
    id = db.Column(db.Integer, primary_key=True)
    token = db.Column(db.String(80), nullable=False)


def may_hear(socket: Any, note: Any) -> bool:
    """Logged-in sockets hear creates; only a note's owner joins its room."""
    if not current_user.is_authenticated:
        return False
    return note is None or note.owner == current_user.name


sockpub.blueprint(Member, hidden=["password_hash"])
sockpub.blueprint(Note, authorize=may_hear)


def create_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="hearing", SQLALCHEMY_DATABASE_URI="sqlite://", SOCKPUB_EVENT_STYLE="message"
    )
    app.config.from_prefixed_env("SOCKPUB_TEST")
    app.config.update(config)
    db.init_app(app)
    sockpub.init_app(app)
    if app.config.get("SESSION_TYPE") == "redis":
        import redis
        from flask_session import Session

        app.config["SESSION_REDIS"] = redis.Redis.from_url(app.config["REDIS_URL"])
        Session(app)
    with app.app_context():
        db.create_all()

    login_manager = LoginManager(app)

    @login_manager.user_loader
    def load_member(id: str) -> Member | None:
        return db.session.get(Member, int(id))

    def who() -> str | None:
        return current_user.name if current_user.is_authenticated else None

    @app.post("/login")
    def login() -> Any:
        name = param("name")
        member = db.session.scalar(db.select(Member).filter_by(name=name))
        if member is None:
            member = Member(name=name, password_hash=f"hash-of-{name}")
            db.session.add(member)
            db.session.commit()
        login_user(member)
        return {"user": who()}

    @app.post("/logout")
    def logout() -> Any:
        logout_user()
        return {"user": who()}

    @app.post("/logout-everywhere")
    def logout_everywhere() -> Any:
        user_id = current_user.get_id()
        logout_user()
        return {"sockets": len(sockpub.log_out_sockets(user_id))}

    @app.post("/clear")
    def clear() -> Any:
        session.clear()
        return {"user": None}

    @app.post("/rotate")
    def rotate() -> Any:
        app.session_interface.regenerate(session)  # type: ignore[attr-defined]
        return {"rotated": True}

    @app.get("/me")
    def me() -> Any:
        return {"user": who()}

    @app.route("/value", methods=["GET", "POST"])
    def value() -> Any:
        if param("value") is not None:
            session["value"] = param("value")
        return {"value": session.get("value")}

    @app.get("/inbox")
    @login_required
    def inbox() -> Any:
        listen(f"inbox-{current_user.name}")
        return {"inbox": current_user.name}

    @app.post("/inbox/<name>")
    def send(name: str) -> Any:
        broadcast(f"inbox-{name}", {"to": name, "text": param("text")})
        return {"sent": True}

    @app.get("/public")
    def public() -> Any:
        listen("public")
        return {"room": "public"}

    @app.post("/public/say")
    def say_public() -> Any:
        broadcast("public", {"to": "everybody", "text": param("text")})
        return {"sent": True}

    @app.get("/my/rooms")
    def my_rooms() -> Any:
        return {"rooms": sorted(room for room in current_socket.rooms if room != current_socket.id)}

    @app.post("/members/<int:id>/rename")
    def rename(id: int) -> Any:
        member = db.session.get(Member, id) or abort(404)
        member.name = param("name")
        db.session.commit()
        Member.publish_update(member.id, member)  # as the seed's docs do
        return {"renamed": member.id}

    @app.post("/me/publish")
    @login_required
    def publish_me() -> Any:
        current_user.name = param("name", current_user.name)
        db.session.commit()
        Member.publish_update(current_user.id, current_user)
        return {"published": True}

    @app.get("/me/serialized")
    @login_required
    def serialized_me() -> Any:
        return serialize(current_user)

    @app.post("/notes/<int:id>/introduce")
    def introduce(id: int) -> Any:
        Note.introduce(id)
        return {"introduced": id}

    @app.post("/accounts")
    def make_account() -> Any:
        account = Account(token=param("token"))
        db.session.add(account)
        db.session.commit()
        Account.publish_create(account)
        return serialize(account)

    @app.post("/accounts/subscribe")
    def subscribe_accounts() -> Any:
        return {"subscribed": Account.subscribe()}

    @sockpub.socketio.on("plain_logout")
    def plain_logout() -> Any:
        logout_user()
        return {"user": who()}

    @app.get("/pages/<name>")
    def test_page(name: str) -> Any:
        return send_from_directory(PAGES, name)

    @app.get("/cookie")
    def cookie() -> Any:
        return {"cookie": request.cookies.get(app.config.get("SESSION_COOKIE_NAME", "session"))}

    return app


def served_app() -> Flask:
    """For ``live_server``: the app, with a file database when ``HEARING_DATABASE_URL`` says so."""
    url = os.environ.get("HEARING_DATABASE_URL")
    return create_app(**({"SQLALCHEMY_DATABASE_URI": url} if url else {}))
