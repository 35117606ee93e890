"""Plain Flask-SocketIO handlers beside SockPub's, whatever the order they are registered in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, request
from flask_socketio import Namespace, SocketIO

from flask_sockpub import SockPub
from flask_sockpub.testing import SocketTestClient

#: How the app and SockPub meet: SockPub(app) first, or an app factory calling
#: init_app after (or before) the app registers its handlers.
ORDERS = ["handlers after init_app", "handlers before init_app"]


def app_with(order: str, register: Callable[[SockPub], None]) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "plain handlers"

    @app.get("/echo")
    def echo() -> dict[str, str]:
        return {"echo": "yes"}

    sockpub = SockPub()
    if order == "handlers before init_app":
        register(sockpub)
        sockpub.init_app(app)
    else:
        sockpub.init_app(app)
        register(sockpub)
    return app


def socket_of(app: Flask) -> SocketTestClient:
    return SocketTestClient(app)


def every_namespace_handlers(socketio: SocketIO) -> None:
    @socketio.on("hello", namespace="*")
    def hello(*args: Any) -> list[Any]:
        return ["hello", request.namespace, *args]

    @socketio.on("*", namespace="*")
    def anything(*args: Any) -> list[Any]:
        return ["anything", request.namespace, *args]


def plain_flask_socketio_answers(events: list[tuple[str, Any]]) -> list[Any]:
    """What Flask-SocketIO alone answers, the oracle for SockPub beside it."""
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode="threading")
    every_namespace_handlers(socketio)
    client = socketio.test_client(app)
    return [client.emit(event, data, callback=True) for event, data in events]


@pytest.mark.parametrize("order", ORDERS)
def test_handlers_on_every_namespace_are_called_for_the_default_one(order: str) -> None:
    events = [("hello", "ada"), ("ping", 7)]
    expected = plain_flask_socketio_answers(events)
    assert expected[0][:2] == ["hello", "/"]
    socket = socket_of(app_with(order, lambda sockpub: every_namespace_handlers(sockpub.socketio)))
    assert [socket.emit(event, data) for event, data in events] == expected
    assert socket.get("/echo").body == {"echo": "yes"}


@pytest.mark.parametrize("order", ORDERS)
def test_the_apps_catch_all_on_the_default_namespace_gets_what_sockpub_does_not_serve(
    order: str,
) -> None:
    def register(sockpub: SockPub) -> None:
        @sockpub.socketio.on("*")
        def anything(event: str, data: Any) -> list[Any]:
            return [event, data]

    socket = socket_of(app_with(order, register))
    assert socket.emit("ping", 7) == ["ping", 7]
    # Socket requests still reach the views, in any case of the verb.
    assert socket.get("/echo").body == {"echo": "yes"}
    assert socket.emit("GET", {"url": "/echo"})["body"] == {"echo": "yes"}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("event", ["get", "POST", "delete", "sockpub:mine"])
def test_a_plain_handler_for_a_request_verb_is_refused_at_registration(
    order: str, event: str
) -> None:
    def register(sockpub: SockPub) -> None:
        @sockpub.socketio.on(event)
        def steal(data: Any) -> None:
            raise AssertionError("never called")

    with pytest.raises(
        ValueError, match=f"the event '{event}' on the default namespace '/' is SockPub's"
    ):
        app_with(order, register)


def test_a_handler_for_a_verb_on_another_namespace_is_fine() -> None:
    def register(sockpub: SockPub) -> None:
        @sockpub.socketio.on("get", namespace="/legacy")
        def legacy_get(data: Any) -> str:
            return "legacy"

    app = app_with(ORDERS[0], register)
    socket = SocketTestClient(app)
    assert socket.get("/echo").body == {"echo": "yes"}


class Chat(Namespace):
    def on_shout(self, data: str) -> str:
        return data.upper()


class Thief(Namespace):
    def on_post(self, data: Any) -> None:
        raise AssertionError("never called")


@pytest.mark.parametrize("order", ORDERS)
def test_a_class_namespace_on_the_default_namespace_gets_its_events(order: str) -> None:
    socket = socket_of(app_with(order, lambda sockpub: sockpub.socketio.on_namespace(Chat("/"))))
    assert socket.emit("shout", "hi") == "HI"
    assert socket.get("/echo").body == {"echo": "yes"}


@pytest.mark.parametrize("order", ORDERS)
def test_a_class_namespace_handling_a_request_verb_is_refused(order: str) -> None:
    with pytest.raises(ValueError, match="'post' on the default namespace '/' is SockPub's"):
        app_with(order, lambda sockpub: sockpub.socketio.on_namespace(Thief("/")))


def test_unknown_events_still_get_a_400_without_app_handlers() -> None:
    socket = socket_of(app_with(ORDERS[0], lambda sockpub: None))
    answer = socket.emit("nobody-handles-this", {})
    assert answer["statusCode"] == 400
    assert answer["body"]["error"].startswith("unknown event 'nobody-handles-this'")
