"""The echo demo: one view answers HTTP and sockets; every echo is kept in SQLite.

Run it with ``scripts/demo echo`` (or ``python -m flask_sockpub run examples.echo.app:create_app``), then:

* in a browser: http://127.0.0.1:5000/, the welcome page, which makes the
  Sails 0.9 guide's ``socket.get('/echo', {message: 'hi there!'})``
* over HTTP: ``curl 'http://127.0.0.1:5000/echo?message=hi%20there!'``
* over a socket (Python)::

      from flask_sockpub.client import Client
      with Client("http://127.0.0.1:5000") as client:
          print(client.get("/echo", {"message": "hi there!"}).body)
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from examples.theme import theme
from flask_sockpub import SockPub, current_socket, param


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
sockpub = SockPub(db=db)


class Echo(db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str | None]
    via: Mapped[str]
    at: Mapped[datetime] = mapped_column(default=lambda: datetime.now(timezone.utc))


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
        "DATABASE_URL", "sqlite:///" + os.path.join(app.instance_path, "echo.sqlite")
    )
    os.makedirs(app.instance_path, exist_ok=True)
    db.init_app(app)
    sockpub.init_app(app)
    app.register_blueprint(theme)

    @app.route("/")
    def welcome() -> Any:
        return render_template("welcome.html")

    @app.route("/echo", methods=["GET", "POST"])
    def echo() -> Any:
        message = param("message")
        db.session.add(Echo(message=message, via="socket" if current_socket else "http"))
        db.session.commit()
        return {"success": True, "message": message}

    @app.route("/echoes")
    def echoes() -> Any:
        rows = db.session.scalars(db.select(Echo).order_by(Echo.id.desc()).limit(20))
        return [{"message": row.message, "via": row.via, "at": row.at.isoformat()} for row in rows]

    with app.app_context():
        db.create_all()
    return app
