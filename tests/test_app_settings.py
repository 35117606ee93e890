"""``init_app`` honours the app's own settings, refuses a second call, and blueprints made later still register."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import SockPub
from flask_sockpub.testing import SocketTestClient
from tests.apps.pipeline import create_app


def test_an_apps_max_url_length_is_the_limit_of_its_socket_requests() -> None:
    app = create_app(SOCKPUB_MAX_URL_LENGTH=40)
    socket = SocketTestClient(app)
    at_limit = "/echo?message=" + "a" * (40 - len("/echo?message="))
    assert socket.get(at_limit).status_code == 200
    over = socket.get(at_limit + "a")
    assert (over.status_code, over.error) == (414, "url is 41 characters long; the limit is 40")


def test_an_apps_max_payload_limits_the_body_of_its_socket_requests() -> None:
    app = create_app(SOCKPUB_MAX_PAYLOAD=100)
    socket = SocketTestClient(app)
    fits = {"name": "x" * (100 - len('{"name":""}'))}
    assert socket.post("/json", fits).body == {"json": fits, "param": fits["name"]}
    over = socket.post("/json", {"name": fits["name"] + "x"})
    assert (over.status_code, over.error) == (
        413,
        "the request body is 101 bytes; SOCKPUB_MAX_PAYLOAD allows 100",
    )


def test_an_apps_max_payload_limits_the_query_data_of_its_socket_requests() -> None:
    app = create_app(SOCKPUB_MAX_PAYLOAD=100)
    socket = SocketTestClient(app)
    message = "x" * (100 - len("message="))
    assert socket.get("/echo", {"message": message}).body == {"success": True, "message": message}
    over = socket.get("/echo", {"message": message + "x"})
    assert (over.status_code, over.error) == (
        413,
        "the query string is 101 bytes; SOCKPUB_MAX_PAYLOAD allows 100",
    )


def test_init_app_twice_on_one_app_is_refused_and_the_app_keeps_working() -> None:
    app = create_app()
    sockpub = app.extensions["sockpub"].sockpub
    with pytest.raises(RuntimeError) as raised:
        sockpub.init_app(app)
    assert (
        str(raised.value) == "SockPub is already set up for this app: call init_app once per app."
    )
    with pytest.raises(RuntimeError):
        SockPub(app)
    assert SocketTestClient(app).get("/echo", {"message": "still"}).body == {
        "success": True,
        "message": "still",
    }


db = SQLAlchemy()


class Gadget(db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(50))


def test_a_blueprint_made_after_init_app_is_served_over_http_and_sockets() -> None:
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY="test")
    db.init_app(app)
    sockpub = SockPub(app, db=db)
    with app.app_context():
        db.create_all()
    sockpub.blueprint(Gadget)
    created = app.test_client().post("/gadget", json={"name": "sprocket"})
    assert created.status_code == 201
    gadget: dict[str, Any] = created.get_json()
    assert gadget["name"] == "sprocket"
    listed = SocketTestClient(app).get("/gadget")
    assert (listed.status_code, listed.body) == (200, [gadget])
