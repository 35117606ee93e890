"""An app exercising the whole Flask pipeline, served to socket and HTTP tests alike."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, abort, g, jsonify, redirect, request, session

from flask_sockpub import SockPub, broadcast, current_socket, listen, param

#: Side effects of teardown_request, seen by later requests in the same process.
TORN_DOWN: list[str] = []


def create_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-secret", **config)
    app.config.from_prefixed_env("SOCKPUB_TEST")
    SockPub(app, async_mode=os.environ.get("SOCKPUB_TEST_ASYNC_MODE") or None)

    @app.before_request
    def remember_start() -> None:
        g.started_by = "before_request"

    @app.after_request
    def tag_response(response: Any) -> Any:
        response.headers["X-After-Request"] = "yes"
        return response

    @app.teardown_request
    def note_teardown(error: BaseException | None) -> None:
        TORN_DOWN.append(request.path)

    @app.errorhandler(404)
    def not_found(error: Any) -> Any:
        return jsonify(error="custom not found", path=request.path), 404

    @app.route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def echo() -> Any:
        return {"success": True, "message": param("message")}

    @app.route("/g")
    def read_g() -> Any:
        return {"started_by": g.get("started_by")}

    @app.route("/teardowns")
    def teardowns() -> Any:
        return {"paths": TORN_DOWN[-20:]}

    @app.route("/forbidden")
    def forbidden() -> Any:
        abort(403)

    @app.route("/redirect")
    def go_elsewhere() -> Any:
        return redirect("/echo?message=redirected")

    @app.route("/text")
    def text() -> Any:
        return "plain text", 200, {"Content-Type": "text/plain; charset=utf-8"}

    @app.route("/args")
    def args() -> Any:
        return {"args": request.args.to_dict(flat=False)}

    @app.route("/json", methods=["POST", "PUT", "PATCH"])
    def body() -> Any:
        return {"json": request.get_json(), "param": param("name")}

    @app.route("/headers")
    def headers() -> Any:
        return {
            "x_custom": request.headers.get("X-Custom"),
            "origin": request.headers.get("Origin"),
            "cookie": request.headers.get("Cookie"),
            "host": request.headers.get("Host"),
            "accept": request.headers.get("Accept"),
            "remote_addr": request.remote_addr,
        }

    @app.route("/whoami")
    def whoami() -> Any:
        return {"socket": current_socket.id if current_socket else None}

    @app.route("/items/<int:item_id>")
    def item(item_id: int) -> Any:
        return {"item_id": item_id, "param": param("item_id")}

    @app.route("/cookie")
    def set_cookie() -> Any:
        response = jsonify(cookie="set")
        response.set_cookie("flavour", "oatmeal")
        return response

    @app.route("/whisper", methods=["POST"])
    def whisper() -> Any:
        current_socket.emit("whisper", {"text": param("text")})
        return {"sent": True}

    @app.route("/boom")
    def boom() -> Any:
        raise RuntimeError("boom")

    @app.route("/session", methods=["GET", "POST"])
    def session_view() -> Any:
        if request.method == "POST":
            session["value"] = param("value")
        return {"value": session.get("value")}

    @app.route("/rooms/<room>/listen", methods=["POST"])
    def join(room: str) -> Any:
        return {"listening": listen(room)}

    @app.route("/rooms/<room>/broadcast", methods=["POST"])
    def shout(room: str) -> Any:
        include_self = param("include_self", True)
        broadcast(room, {"room": room, "text": param("text")}, include_self=include_self)
        return {"sent": True}

    return app
