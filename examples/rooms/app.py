"""Model rooms: users in a class room and instance rooms, over HTTP and sockets.

Run it with ``python -m flask_sockpub run examples.rooms.app:create_app``, then
``python -m examples.rooms.client http://127.0.0.1:5000`` in another terminal.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, abort, session
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import PubSub, SockPub, broadcast, current_socket, listen, param, serialize

db = SQLAlchemy()
sockpub = SockPub(db=db)


class User(PubSub, db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "change me")
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite://")
    db.init_app(app)
    sockpub.init_app(app)
    with app.app_context():
        db.create_all()

    @app.get("/users")
    def list_users() -> Any:
        users = db.session.scalars(db.select(User).order_by(User.id)).all()
        User.subscribe(current_socket)  # hear every create
        User.subscribe(current_socket, users)  # and every change to these
        return [serialize(user) for user in users]

    @app.post("/users")
    def create_user() -> Any:
        user = User(name=param("name"))
        db.session.add(user)
        db.session.commit()
        User.publish_create(user, omit=current_socket)
        User.subscribe(current_socket, user)
        return serialize(user), 201

    @app.put("/users/<int:id>")
    def rename_user(id: int) -> Any:
        user = db.session.get(User, id) or abort(404)
        user.name = param("name")
        db.session.commit()
        User.publish_update(id, {"name": user.name}, omit=current_socket)
        return serialize(user)

    @app.delete("/users/<int:id>")
    def delete_user(id: int) -> Any:
        user = db.session.get(User, id) or abort(404)
        db.session.delete(user)
        db.session.commit()
        User.publish_destroy(id, omit=current_socket)
        User.unsubscribe(current_socket, id)
        return {"deleted": id}

    @app.post("/users/<int:id>/wave")
    def wave(id: int) -> Any:
        User.publish([id], {"wave": param("from")})
        return {"waved": id}

    @app.get("/users/<int:id>/subscribers")
    def subscribers(id: int) -> Any:
        return {"sockets": [socket.id for socket in User.subscribers(id)]}

    @app.post("/me")
    def log_in() -> Any:
        session["user_id"] = param("id")
        User.subscribe(current_socket, session["user_id"])  # my own instance room
        return {"id": session["user_id"]}

    @app.post("/chat/<room>/join")
    def join(room: str) -> Any:
        return {"joined": listen(room)}

    @app.post("/chat/<room>")
    def say(room: str) -> Any:
        broadcast(room, {"room": room, "text": param("text")})
        return {"said": True}

    return app
