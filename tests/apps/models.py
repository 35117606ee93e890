"""An app with models in rooms: the seed's pubsub examples as views, for real sockets.

Served by ``live_server("tests.apps.models:create_app")``. The environment
chooses the async mode (``SOCKPUB_TEST_ASYNC_MODE``) and the event style
(``FLASK_SOCKPUB_EVENT_STYLE``, read by ``from_prefixed_env``).
"""

from __future__ import annotations

import datetime
import decimal
import gc
import os
import uuid
from socket import IPPROTO_TCP, TCP_NODELAY
from typing import Any

import click
import engineio
from flask import Flask, abort, request, session
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import PubSub, Socket, SockPub, broadcast, current_socket, listen, param
from flask_sockpub.rooms.names import MODEL_ROOM_PREFIX
from flask_sockpub.serving.middleware import connection_socket

db = SQLAlchemy()

#: The ticket ids the app creates, fixed so that tests can name them.
TICKET_IDS = [uuid.UUID(int=n) for n in (1, 2)]


class User(PubSub, db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


class Player(PubSub, db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    lucky = db.Column(db.Boolean, default=False, nullable=False)


class Product(db.Model):  # type: ignore[name-defined,misc]
    """Without the mixin: reached through ``sockpub.model(Product)``."""

    sku = db.Column(db.String(20), primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    price = db.Column(db.Numeric(10, 2), nullable=False)
    on_sale = db.Column(db.Boolean, default=False, nullable=False)


class Ticket(PubSub, db.Model):  # type: ignore[name-defined,misc]
    """A UUID primary key, a custom identity, and a serialiser of its own."""

    __sockpub_identity__ = "pass"

    id = db.Column(db.Uuid, primary_key=True)
    holder_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    holder = db.relationship(User)
    issued = db.Column(db.DateTime, nullable=False)
    secret = db.Column(db.String(40), nullable=False)

    def __sockpub_serialize__(self) -> dict[str, Any]:
        return {"id": self.id, "holder_id": self.holder_id, "issued": self.issued}


def create_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="test-secret",
        SQLALCHEMY_DATABASE_URI="sqlite://",
        **config,
    )
    app.config.from_prefixed_env("FLASK")
    db.init_app(app)
    options: dict[str, Any] = {}
    if os.environ.get("SOCKPUB_TEST_PING"):
        # Short pings make engine.io sweep dead connections within seconds.
        options["ping_interval"] = options["ping_timeout"] = int(os.environ["SOCKPUB_TEST_PING"])
    sockpub = SockPub(
        app, db=db, async_mode=os.environ.get("SOCKPUB_TEST_ASYNC_MODE") or None, **options
    )
    products = sockpub.model(Product)
    rooms_of = {"user": User, "player": Player, "product": products, "ticket": Ticket}

    with app.app_context():
        db.create_all()
        db.session.add_all(User(id=n, name=f"user {n}") for n in range(1, 11))
        db.session.add_all(Player(id=n, name=f"player {n}", lucky=n in (2, 5)) for n in range(1, 7))
        db.session.add_all(
            [
                Product(sku="A-1", name="kettle", price=decimal.Decimal("19.90"), on_sale=True),
                Product(sku="B-2", name="toaster", price=decimal.Decimal("24.00")),
                Product(sku="C-3", name="mug", price=decimal.Decimal("3.50"), on_sale=True),
            ]
        )
        db.session.add_all(
            Ticket(
                id=ticket_id, holder_id=1, issued=datetime.datetime(2024, 5, 17, 9, 30), secret="s"
            )
            for ticket_id in TICKET_IDS
        )
        db.session.commit()

    def model(name: str) -> Any:
        if name not in rooms_of:
            abort(404)
        return rooms_of[name]

    def omit() -> Any:
        return current_socket if param("omit_me") else None

    # The seed's examples, as written.

    @app.post("/user/subscribe")
    def subscribe_to_users() -> Any:
        return {"subscribed": User.subscribe(current_socket)}

    @app.post("/user/subscribe/seven-and-three")
    def subscribe_to_7_and_3() -> Any:
        return {"subscribed": User.subscribe(current_socket, [7, 3])}

    @app.post("/player/subscribe/lucky")
    def subscribe_to_lucky_guests() -> Any:
        todays_lucky_guests = Player.query.filter_by(lucky=True).all()
        return {"subscribed": Player.subscribe(current_socket, todays_lucky_guests)}

    @app.post("/login")
    def login() -> Any:
        session["user_id"] = param("user_id")
        return {"user_id": session["user_id"]}

    @app.post("/user/subscribe/me")
    def subscribe_to_me() -> Any:
        return {"subscribed": User.subscribe(current_socket, session["user_id"])}

    @app.post("/product/subscribe/sale")
    def subscribe_to_sale_items() -> Any:
        sale_items = Product.query.filter_by(on_sale=True).all()
        return {"subscribed": products.subscribe(current_socket, sale_items)}

    @app.post("/user/subscribe/implicit")
    def subscribe_the_current_socket() -> Any:
        return {"subscribed": User.subscribe()}

    @app.post("/user/subscribe/nothing")
    def subscribe_to_nothing() -> Any:
        return {"subscribed": User.subscribe(current_socket, [])}

    # Every method, with its arguments from the request.

    @app.post("/<name>/subscribe/ids")
    def subscribe_to_ids(name: str) -> Any:
        return {"subscribed": model(name).subscribe(current_socket, param("ids"))}

    @app.post("/<name>/unsubscribe")
    def unsubscribe(name: str) -> Any:
        ids = param("ids")
        if ids is None:
            return {"unsubscribed": model(name).unsubscribe(current_socket)}
        if param("as_instances"):
            ids = [db.session.get(User, id) for id in ids]
        return {"unsubscribed": model(name).unsubscribe(current_socket, ids)}

    @app.post("/<name>/create")
    def publish_create(name: str) -> Any:
        model(name).publish_create(param("values"), omit=omit())
        return {"published": True}

    @app.post("/user/<int:id>/create-row")
    def create_user_row(id: int) -> Any:
        user = User(id=id, name=param("name"))
        db.session.add(user)
        db.session.commit()
        User.publish_create(user, omit=omit())
        return {"published": True}

    @app.post("/<name>/<id>/update")
    def publish_update(name: str, id: str) -> Any:
        model(name).publish_update(id, param("values"), omit=omit(), previous=param("previous"))
        return {"published": True}

    @app.post("/ticket/<uuid:id>/update-row")
    def update_ticket_row(id: uuid.UUID) -> Any:
        ticket = db.session.get(Ticket, id)
        ticket.secret = "changed"
        db.session.commit()
        Ticket.publish_update(ticket, ticket)
        return {"published": True}

    @app.post("/<name>/<id>/destroy")
    def publish_destroy(name: str, id: str) -> Any:
        model(name).publish_destroy(id, omit=omit(), previous=param("previous"))
        return {"published": True}

    @app.post("/<name>/<id>/introduce")
    def introduce(name: str, id: str) -> Any:
        model(name).introduce(id, omit=omit())
        return {"introduced": True}

    @app.post("/<name>/publish")
    def publish(name: str) -> Any:
        model(name).publish(param("ids"), param("message"), omit=omit())
        return {"published": True}

    @app.get("/<name>/room")
    def room(name: str) -> Any:
        return {"room": model(name).room(param("id"))}

    @app.get("/<name>/subscribers")
    def subscribers(name: str) -> Any:
        found = model(name).subscribers(param("id"))
        assert all(isinstance(socket, Socket) for socket in found)
        return {"subscribers": sorted(socket.id for socket in found)}

    @app.get("/my/rooms")
    def my_rooms() -> Any:
        return {"rooms": sorted(current_socket.rooms) if current_socket else None}

    @app.get("/my/nodelay")
    def nodelay() -> Any:
        """Whether Nagle's algorithm is off on the TCP connection of this socket (or HTTP request)."""
        tcp = connection_socket(current_socket.environ if current_socket else request.environ)
        return {"nodelay": None if tcp is None else tcp.getsockopt(IPPROTO_TCP, TCP_NODELAY) != 0}

    @app.post("/my/rooms/reset")
    def reset() -> Any:
        """Leave every model room, so that tests sharing a socket start clean."""
        for name in current_socket.rooms:
            if name.startswith(MODEL_ROOM_PREFIX):
                current_socket.server.leave_room(current_socket.id, name)
        session.clear()
        return {"rooms": sorted(current_socket.rooms)}

    @app.post("/rooms/<room>/listen")
    def join(room: str) -> Any:
        return {"listening": listen(room)}

    @app.post("/rooms/<room>/broadcast")
    def shout(room: str) -> Any:
        broadcast(room, {"room": room})
        return {"sent": True}

    @app.post("/user/<int:id>/update-later")
    def update_later(id: int) -> Any:
        """Publish from a background task, with an app context of its own."""
        values = {"name": param("name")}

        def publish_later() -> None:
            sockpub.socketio.sleep(0.05)
            with app.app_context():
                User.publish_update(id, values)

        sockpub.socketio.start_background_task(publish_later)
        return {"scheduled": True}

    @app.post("/sockets/<sid>/disconnect")
    def disconnect(sid: str) -> Any:
        """Disconnect a socket from the server's side."""
        Socket(sockpub.socketio.server, sid).disconnect()
        return {"disconnecting": sid}

    @app.post("/ordering/run")
    def run_plan() -> Any:
        """Publish every step of a plan, yielding to the server's other work now and then."""
        for number, (verb, target) in enumerate(request.get_json()["plan"]):
            if verb == "create":
                User.publish_create({"id": target, "n": number})
            elif verb == "update":
                User.publish_update(target, {"n": number})
            elif verb == "destroy":
                User.publish_destroy(target)
            elif verb == "publish":
                User.publish(target, {"n": number})
            if number % 10 == 9:
                sockpub.socketio.sleep(0)
        return {"published": number + 1}

    @app.get("/internals")
    def internals() -> Any:
        """The sizes of every per-socket structure of python-socketio, engine.io and ours."""
        return table_sizes(app)

    @app.cli.command("announce")
    @click.argument("id", type=int)
    @click.argument("name")
    def announce(id: int, name: str) -> None:
        """Publish an update from the command line."""
        User.publish_update(id, {"name": name})

    return app


def table_sizes(app: Flask) -> dict[str, int]:
    """Every structure that could hold something per socket, by size.

    SockPub keeps no per-socket structure of its own: its per-socket state
    (session, auth, the base environ of virtual requests) lives in the
    connection environ, which python-socketio drops on disconnect. The live
    objects counted at the end would show anything that kept a socket alive.
    """
    state = app.extensions["sockpub"]
    server = state.server
    manager = server.manager
    rooms = manager.rooms.get("/", {})
    gc.collect()
    live = gc.get_objects()
    return {
        "socketio_rooms": len(rooms),
        "socketio_memberships": sum(len(members) for members in rooms.values()),
        "socketio_model_rooms": sum(
            1 for name in rooms if isinstance(name, str) and name.startswith("sockpub:")
        ),
        "socketio_namespaces": len(manager.rooms),
        "socketio_callbacks": len(manager.callbacks),
        "socketio_pending_connect": sum(len(sids) for sids in manager.pending_connect.values()),
        "socketio_pending_disconnect": sum(
            len(sids) for sids in manager.pending_disconnect.values()
        ),
        "socketio_binary_packets": len(server._binary_packet),
        "socketio_environs": len(server.environ),
        "engineio_sockets": len(server.eio.sockets),
        "live_engineio_sockets": sum(
            1 for obj in live if isinstance(obj, engineio.base_socket.BaseSocket)
        ),
        "live_sockpub_sockets": sum(1 for obj in live if isinstance(obj, Socket)),
    }
