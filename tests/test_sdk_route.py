"""The browser SDK served by the extension, and the JWR header that marks subscribing requests."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import PubSub, SockPub, listen
from flask_sockpub.client import Client
from flask_sockpub.serving import sdk as browser
from flask_sockpub.sockets import SUBSCRIBED_HEADER

db = SQLAlchemy()


class Thing(PubSub, db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)


def sdk_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-secret", SQLALCHEMY_DATABASE_URI="sqlite://", **config)
    db.init_app(app)
    SockPub(app, db=db)

    @app.route("/things")
    def things() -> Any:
        return {"class_room": Thing.subscribe()}

    @app.route("/things/<int:id>")
    def thing(id: int) -> Any:
        return {"instance_room": Thing.subscribe(None, id)}

    @app.route("/things/1/subscribe/<sid>")
    def subscribe_another(sid: str) -> Any:
        return {"subscribed": Thing.subscribe(sid, 1)}

    @app.route("/rooms/<room>")
    def join(room: str) -> Any:
        return {"listening": listen(room)}

    @app.route("/plain")
    def plain() -> Any:
        return {"listening": False}

    return app


def test_the_sdk_is_served_at_the_default_url() -> None:
    assert browser.BUNDLE.is_file(), f"build the SDK first: {browser.BUILD_COMMAND}"
    client = sdk_app().test_client()
    with client.get("/sockpub/sockpub.js") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/javascript"
        assert b"sockpub.js, the browser SDK of flask_sockpub" in response.data
    etag = response.headers["ETag"]
    with client.get("/sockpub/sockpub.js", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304


def test_sockpub_client_url_moves_the_sdk_and_none_disables_it() -> None:
    moved = sdk_app(SOCKPUB_CLIENT_URL="/js/realtime.js").test_client()
    with moved.get("/js/realtime.js") as response:
        assert response.status_code == 200
    assert moved.get("/sockpub/sockpub.js").status_code == 404
    disabled = sdk_app(SOCKPUB_CLIENT_URL=None)
    assert disabled.test_client().get("/sockpub/sockpub.js").status_code == 404
    assert "sockpub_client" not in disabled.view_functions


def test_templates_reach_the_sdk_by_its_endpoint() -> None:
    app = sdk_app(SOCKPUB_CLIENT_URL="/js/sockpub.js")
    with app.test_request_context():
        from flask import url_for

        assert url_for("sockpub_client") == "/js/sockpub.js"


def test_a_missing_bundle_is_a_503_and_the_log_says_how_to_build_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(browser, "BUNDLE", tmp_path / "dist" / "sockpub.js")
    with caplog.at_level(logging.ERROR, logger="flask_sockpub"):
        response = sdk_app().test_client().get("/sockpub/sockpub.js")
    assert response.status_code == 503
    assert b"npm ci && npm run build" in response.data
    [record] = [r for r in caplog.records if r.name == "flask_sockpub"]
    assert "npm ci && npm run build" in record.getMessage()
    assert str(tmp_path / "dist" / "sockpub.js") in record.getMessage()


def test_a_socket_request_that_listens_is_marked_subscribed() -> None:
    app = sdk_app()
    socket = app.extensions["sockpub"].sockpub.test_client(app)
    subscribing = socket.get("/rooms/lobby")
    assert subscribing.body == {"listening": True}
    assert subscribing.headers[SUBSCRIBED_HEADER] == "1"
    assert SUBSCRIBED_HEADER not in socket.get("/plain").headers


def test_model_room_subscriptions_of_the_requesting_socket_are_marked() -> None:
    app = sdk_app()
    sockpub = app.extensions["sockpub"].sockpub
    socket, other = sockpub.test_client(app), sockpub.test_client(app)
    for url in ("/things", "/things/7"):
        response = socket.get(url)
        assert list(response.body.values()) == [True]
        assert response.headers[SUBSCRIBED_HEADER] == "1", url
    # Subscribing another socket is not subscribing the requester.
    response = socket.get(f"/things/1/subscribe/{other.sid}")
    assert response.body == {"subscribed": True}
    assert SUBSCRIBED_HEADER not in response.headers


def test_http_requests_are_never_marked() -> None:
    response = sdk_app().test_client().get("/rooms/lobby")
    assert response.json == {"listening": False}
    assert SUBSCRIBED_HEADER not in response.headers


def test_the_mark_reaches_a_real_client(real_socket: Client) -> None:
    response = real_socket.post("/rooms/sdk-mark/listen")
    assert response.body == {"listening": True}
    assert response.headers[SUBSCRIBED_HEADER] == "1"
    assert SUBSCRIBED_HEADER not in real_socket.get("/echo").headers


def test_no_bundled_or_minified_javascript_is_committed() -> None:
    root = Path(__file__).resolve().parent.parent
    listed = subprocess.run(
        ["git", "ls-files", "-z", "*.js", "*.mjs", "*.cjs"],
        cwd=root,
        capture_output=True,
        check=True,
    )
    files = [name for name in listed.stdout.decode().split("\0") if name]
    assert "scripts/build-sdk.mjs" in files  # the listing works
    for name in files:
        assert not name.startswith("flask_sockpub/static/dist/"), (
            f"{name} is built, never committed"
        )
        text = (root / name).read_text(encoding="utf-8")
        # A bundle carries socket.io-client's code; minified code has very long lines.
        assert "Socket.IO contributors" not in text or name == "scripts/build-sdk.mjs", name
        assert max(map(len, text.splitlines()), default=0) <= 200, f"{name} looks minified"
