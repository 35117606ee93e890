"""An app with Flask-Login, for session tests over HTTP, socket requests and plain handlers.

Configured from ``SOCKPUB_TEST_*`` environment variables (``live_server(env=...)``):
``SOCKPUB_TEST_SESSION_TYPE=redis`` with ``SOCKPUB_TEST_SESSION_KEY_PREFIX`` and
``SOCKPUB_TEST_REDIS_URL`` gives server-side sessions with Flask-Session; without
them, Flask's cookie sessions.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from typing import Any

from flask import Blueprint, Flask, session
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)

from flask_sockpub import SockPub, param

#: Seconds a request of the concurrency test waits for the other one.
WAIT = 5.0


class User(UserMixin):
    def __init__(self, name: str) -> None:
        self.id = name


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-secret")
    app.config.from_prefixed_env("SOCKPUB_TEST")
    sockpub = SockPub(app, async_mode=os.environ.get("SOCKPUB_TEST_ASYNC_MODE") or None)
    if app.config.get("SESSION_TYPE") == "redis":
        # After SockPub on purpose: Flask-Session replaces the session interface
        # SockPub wrapped, the harder order for SockPub.
        import redis
        from flask_session import Session

        app.config["SESSION_REDIS"] = redis.Redis.from_url(app.config["REDIS_URL"])
        Session(app)

    login_manager = LoginManager(app)
    pages = Blueprint("pages", __name__, url_prefix="/pages")
    # login_view stays None for the app (401), pages redirect to a login page.
    login_manager.blueprint_login_views = {"pages": "login_page"}

    @login_manager.user_loader
    def load_user(name: str) -> User:
        return User(name)

    def who() -> str | None:
        return current_user.get_id() if current_user.is_authenticated else None

    @app.post("/login")
    def login() -> Any:
        login_user(User(param("name")))
        return {"user": who()}

    @app.post("/logout")
    def logout() -> Any:
        logout_user()
        return {"user": who()}

    @app.get("/me")
    def me() -> Any:
        return {"user": who()}

    @app.get("/private")
    @login_required
    def private() -> Any:
        return {"user": who()}

    @app.get("/login-page")
    def login_page() -> Any:
        return {"login": "here"}

    @pages.get("/private")
    @login_required
    def private_page() -> Any:
        return {"user": who()}

    app.register_blueprint(pages)

    @app.route("/session", methods=["GET", "POST"])
    def session_values() -> Any:
        for key in ("value", "other"):
            if param(key) is not None:
                session[key] = param(key)
        return {key: session.get(key) for key in ("value", "other", "first", "second", "shared")}

    started: defaultdict[str, threading.Event] = defaultdict(threading.Event)
    finished: defaultdict[str, threading.Event] = defaultdict(threading.Event)

    @app.post("/concurrent/first")
    def first_of_two() -> Any:
        # Starts first, writes "shared" last: waits until the second request is done.
        token = param("token")
        session["first"] = "kept"
        started[token].set()
        done = finished[token].wait(WAIT)
        session["shared"] = "first"
        return {"overlapped": done}

    @app.post("/concurrent/second")
    def second_of_two() -> Any:
        token = param("token")
        overlapped = started[token].wait(WAIT)
        session["second"] = "kept"
        session["shared"] = "second"
        finished[token].set()
        return {"overlapped": overlapped}

    @sockpub.socketio.on("whoami")
    def plain_whoami() -> Any:
        return {"user": who(), "value": session.get("value")}

    @sockpub.socketio.on("set_value")
    def plain_set_value(value: Any) -> Any:
        session["value"] = value
        return {"value": session.get("value")}

    return app
