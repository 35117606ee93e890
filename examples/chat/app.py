"""The chat demo: rooms with ``listen``/``broadcast``, a nickname kept in the
session, join and leave notices, and who is in the room (its ``subscribers``).

Run it with ``scripts/demo chat`` (or ``python -m flask_sockpub run
examples.chat.app:create_app``) and open http://127.0.0.1:5000/ in two
browsers, or a normal and a private window: the nickname lives in the session
cookie, so two tabs of one browser are the same person.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from typing import Any

from flask import Flask, abort, redirect, render_template, request, session, url_for
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from examples.theme import theme
from flask_sockpub import (
    PubSub,
    Socket,
    SockPub,
    broadcast,
    current_socket,
    listen,
    param,
    serialize,
)


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
sockpub = SockPub(db=db)

ROOM_NAME = re.compile(r"[a-z0-9-]{1,30}\Z")
#: Where a socket keeps its nickname and its room while it is connected: its
#: connection environ, which lives exactly as long as the socket. (One server
#: process; with several, keep them in a shared store instead.)
NICK_KEY = "chat.nick"
ROOM_KEY = "chat.room"


class Room(PubSub, db.Model):  # type: ignore[name-defined,misc]
    """A chat room. Its instance room holds the sockets of the people in it."""

    name: Mapped[str] = mapped_column(primary_key=True)


class Line(db.Model):  # type: ignore[name-defined,misc]
    """One line of a room's history: something said, or a join or leave notice."""

    id: Mapped[int] = mapped_column(primary_key=True)
    room: Mapped[str] = mapped_column(index=True)
    kind: Mapped[str]  # "said", "joined" or "left"
    nick: Mapped[str]
    text: Mapped[str] = mapped_column(default="")
    at: Mapped[datetime] = mapped_column(default=lambda: datetime.now(timezone.utc))


def create_app() -> Flask:
    app = Flask(__name__)
    # The session cookie carries the nickname; set SECRET_KEY for anything but a demo.
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "chat demo only")
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
        "DATABASE_URL", "sqlite:///" + os.path.join(app.instance_path, "chat.sqlite")
    )
    os.makedirs(app.instance_path, exist_ok=True)
    db.init_app(app)
    sockpub.init_app(app)
    app.register_blueprint(theme)
    with app.app_context():
        db.create_all()

    @app.get("/")
    def choose_nick() -> Any:
        return render_template("nick.html", nick=session.get("nick", ""))

    @app.post("/")
    def keep_nick() -> Any:
        # A plain HTTP form post: the session cookie it sets is the session
        # of every socket the pages open afterwards.
        nick = request.form.get("nick", "").strip()[:24]
        if not nick:
            return render_template("nick.html", nick="", error="Pick a nickname."), 400
        session["nick"] = nick
        return redirect(url_for("chat", name="lobby"))

    @app.get("/r/<name>")
    def chat(name: str) -> Any:
        if "nick" not in session:
            return redirect(url_for("choose_nick"))
        if not ROOM_NAME.match(name):
            abort(404)
        rooms = db.session.scalars(db.select(Room.name).order_by(Room.name)).all()
        return render_template("chat.html", room=name, rooms=sorted({"lobby", name, *rooms}))

    # A GET, so that the browser SDK sends it again after a reconnect and the
    # page is back in its room.
    @app.get("/rooms/<name>")
    def join(name: str) -> Any:
        nick = session.get("nick")
        if not current_socket or not nick or not ROOM_NAME.match(name):
            abort(400, "join a room over a socket, with a nickname, by a name of a-z, 0-9 and -")
        if db.session.get(Room, name) is None:
            db.session.add(Room(name=name))
        current_socket.environ[NICK_KEY] = nick
        current_socket.environ[ROOM_KEY] = name
        listen(name)  # hear what is said here: broadcast(name, ...)
        Room.subscribe(current_socket, name)  # be counted among the people here
        announce(name, "joined", nick)
        lines = db.session.scalars(
            db.select(Line).where(Line.room == name).order_by(Line.id.desc()).limit(50)
        )
        return {
            "room": name,
            "lines": [serialize(line) for line in reversed(list(lines))],
            "people": people(name),
        }

    @app.post("/rooms/<name>/lines")
    def say(name: str) -> Any:
        text = str(param("text") or "").strip()[:500]
        if not text:
            abort(400, "say something")
        if not current_socket or current_socket.environ.get(ROOM_KEY) != name:
            abort(403, "join the room first")
        announce(name, "said", session["nick"], text)
        return {"said": text}, 201

    @sockpub.on_disconnect
    def leave(reason: str) -> None:
        environ = current_socket.environ or {}
        if ROOM_KEY in environ:
            announce(environ[ROOM_KEY], "left", environ[NICK_KEY], leaving=current_socket)

    return app


def people(room: str, leaving: Socket | None = None) -> list[str]:
    """The nicknames of the sockets in ``room``: the subscribers of its model room."""
    nicks = set()
    for socket in Room.subscribers(room):
        environ = socket.environ
        if socket != leaving and environ and NICK_KEY in environ:
            nicks.add(environ[NICK_KEY])
    return sorted(nicks, key=str.lower)


def announce(
    room: str, kind: str, nick: str, text: str = "", leaving: Socket | None = None
) -> None:
    """Keep a line in the room's history and send it to everybody in the room."""
    line = Line(room=room, kind=kind, nick=nick, text=text)
    db.session.add(line)
    db.session.commit()
    broadcast(room, {"room": room, "line": serialize(line), "people": people(room, leaving)})
