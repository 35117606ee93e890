"""A CRUD blueprint takes hooks, routes and error handlers whenever it was made.

``sockpub.blueprint(Model)`` returns a Flask ``Blueprint`` "so users can add
hooks and decorators", whether it was made before ``init_app`` (registered
when ``init_app`` runs) or after (registered at once); either way the hooks
reach HTTP and socket requests alike, until the app handles its first request.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask, abort, g
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import SockPub

ORDERS = ["app given to SockPub", "init_app then blueprint", "blueprint then init_app"]


def gadget_app(order: str) -> tuple[Flask, SockPub, Blueprint]:
    """An app with a ``Gadget`` blueprint, set up in ``order``."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db = SQLAlchemy(app)

    class Gadget(db.Model):  # type: ignore[name-defined,misc]
        id = db.Column(db.Integer, primary_key=True)
        name = db.Column(db.String(20))

    if order == "app given to SockPub":
        sockpub = SockPub(app, db=db)
        blueprint = sockpub.blueprint(Gadget)
    elif order == "init_app then blueprint":
        sockpub = SockPub(db=db)
        sockpub.init_app(app)
        blueprint = sockpub.blueprint(Gadget)
    else:
        sockpub = SockPub(db=db)
        blueprint = sockpub.blueprint(Gadget)
        sockpub.init_app(app)
    with app.app_context():
        db.create_all()
    return app, sockpub, blueprint


def add_hooks(blueprint: Blueprint) -> None:
    """What a user adds to a CRUD blueprint: hooks, a route, an error handler."""

    @blueprint.before_request
    def mark() -> None:
        g.hooked = "before_request ran"

    @blueprint.after_request
    def tag(response: Any) -> Any:
        response.headers["X-Hooked"] = g.get("hooked", "no")
        return response

    @blueprint.get("/<int:id>/twice")
    def twice(id: int) -> Any:
        return {"twice": 2 * id}

    @blueprint.get("/teapot")
    def teapot() -> Any:
        abort(418)

    @blueprint.errorhandler(418)
    def short_and_stout(error: Any) -> Any:
        return {"teapot": True}, 418


def answers(app: Flask, sockpub: SockPub, path: str) -> list[tuple[int, Any, str | None]]:
    """(status, body, X-Hooked) of ``GET path`` over HTTP, then over a socket."""
    http = app.test_client().get(path)
    socket = sockpub.test_client(app)
    try:
        over_socket = socket.get(path)
    finally:
        socket.disconnect()
    return [
        (http.status_code, http.get_json(), http.headers.get("X-Hooked")),
        (over_socket.status_code, over_socket.body, over_socket.headers.get("X-Hooked")),
    ]


@pytest.mark.parametrize("order", ORDERS)
def test_hooks_added_to_a_blueprint_reach_http_and_socket_requests(order: str) -> None:
    app, sockpub, blueprint = gadget_app(order)
    add_hooks(blueprint)
    hooked = "before_request ran"
    assert answers(app, sockpub, "/gadget") == [(200, [], hooked)] * 2
    assert answers(app, sockpub, "/gadget/21/twice") == [(200, {"twice": 42}, hooked)] * 2
    assert answers(app, sockpub, "/gadget/teapot") == [(418, {"teapot": True}, hooked)] * 2


def test_with_an_app_factory_every_app_gets_the_hooks_added_in_between() -> None:
    db = SQLAlchemy()
    sockpub = SockPub(db=db)

    class Gadget(db.Model):  # type: ignore[name-defined,misc]
        id = db.Column(db.Integer, primary_key=True)

    def create_app() -> Flask:
        app = Flask(__name__)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
        db.init_app(app)
        sockpub.init_app(app)
        with app.app_context():
            db.create_all()
        return app

    first = create_app()
    blueprint = sockpub.blueprint(Gadget)
    add_hooks(blueprint)
    second = create_app()
    for app in (first, second):
        answer = app.test_client().get("/gadget/4/twice")
        assert (answer.get_json(), answer.headers["X-Hooked"]) == (
            {"twice": 8},
            "before_request ran",
        )


def test_a_hook_added_once_the_app_serves_is_refused_with_a_reason() -> None:
    app, sockpub, blueprint = gadget_app("app given to SockPub")
    assert app.test_client().get("/gadget").status_code == 200
    with pytest.raises(AssertionError, match="has already handled a request"):
        blueprint.before_request(lambda: None)
    assert app.test_client().get("/gadget").status_code == 200
