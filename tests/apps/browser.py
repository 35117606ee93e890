"""The app behind the browser tests that are not about a demo.

It serves the test pages of tests/browser/pages/ (same origin as its
sockets), an echo view, a slow view, rooms to listen to and broadcast in, and the CRUD
blueprint of ``User`` with Sails 1.x events (``SOCKPUB_EVENT_STYLE =
"model"``: event ``user`` with ``{verb: "created", ...}``), for a Sails front
end.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flask import Flask, request, send_from_directory
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import PubSub, SockPub, broadcast, current_socket, listen, param

PAGES = Path(__file__).resolve().parent.parent / "browser" / "pages"

db = SQLAlchemy()
sockpub = SockPub(db=db)


class User(PubSub, db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


sockpub.blueprint(User)


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="browser-tests",
        SQLALCHEMY_DATABASE_URI="sqlite://",
        SOCKPUB_EVENT_STYLE="model",
    )
    db.init_app(app)
    sockpub.init_app(app)
    with app.app_context():
        db.create_all()

    @app.get("/pages/<name>")
    def test_page(name: str) -> Any:
        return send_from_directory(PAGES, name)

    @app.route("/echo", methods=["GET", "POST"])
    def echo() -> Any:
        return {"success": True, "message": param("message")}

    @app.get("/slow")
    def slow() -> Any:
        time.sleep(float(param("seconds", 1)))
        return {"slept": True}

    @app.get("/me")
    def me() -> Any:
        return {"auth": current_socket.auth, "client": request.headers.get("X-Client")}

    @app.get("/rooms/<room>")
    def join(room: str) -> Any:
        listen(room)
        return {"room": room}

    @app.post("/rooms/<room>/say")
    def say(room: str) -> Any:
        broadcast(room, {"room": room, "text": param("text")})
        return {"sent": True}

    return app
