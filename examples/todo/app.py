"""The todo demo: a CRUD blueprint and one page; every open tab updates live.

Run it with ``scripts/demo`` (or ``python -m flask_sockpub run
examples.todo.app:create_app``) and open http://127.0.0.1:5000/ in two tabs:
a todo added, ticked or deleted in one shows up in the other at once.

The page lists the todos with ``socket.get('/todo')``, which also subscribes
its socket to every change; adding, ticking and deleting are
``socket.post``/``patch``/``delete`` on the blueprint's routes, which publish
each change to the other subscribed sockets.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from examples.theme import theme
from flask_sockpub import PubSub, SockPub


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
sockpub = SockPub(db=db)


class Todo(PubSub, db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    done: Mapped[bool] = mapped_column(default=False)


# GET/POST /todo and GET/PUT/PATCH/DELETE /todo/<id>, over HTTP and sockets.
sockpub.blueprint(Todo)


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
        "DATABASE_URL", "sqlite:///" + os.path.join(app.instance_path, "todo.sqlite")
    )
    os.makedirs(app.instance_path, exist_ok=True)
    db.init_app(app)
    sockpub.init_app(app)
    app.register_blueprint(theme)
    with app.app_context():
        db.create_all()

    @app.get("/")
    def index() -> Any:
        return render_template("todo.html")

    return app
