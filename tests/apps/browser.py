"""The app behind the browser tests that are not about a demo: it serves the
test pages of tests/browser/pages/ (same origin as its sockets), an echo view,
and rooms to listen to and broadcast in.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, send_from_directory

from flask_sockpub import SockPub, broadcast, listen, param

PAGES = Path(__file__).resolve().parent.parent / "browser" / "pages"


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "browser-tests"
    SockPub(app)

    @app.get("/pages/<name>")
    def test_page(name: str) -> Any:
        return send_from_directory(PAGES, name)

    @app.route("/echo", methods=["GET", "POST"])
    def echo() -> Any:
        return {"success": True, "message": param("message")}

    @app.get("/rooms/<room>")
    def join(room: str) -> Any:
        listen(room)
        return {"room": room}

    @app.post("/rooms/<room>/say")
    def say(room: str) -> Any:
        broadcast(room, {"room": room, "text": param("text")})
        return {"sent": True}

    return app
