"""CPU cost of publishing to scoped rooms, against the same fan-out without scopes, in one process.

Sockets (the test client, no network) are subscribed in groups of
``--per-scope``: without scopes, every group in the model's class room and
the row's instance room; with scopes, each group under a distinct scope
(``owner == i OR public``) of its own, in that scope's class room and the
row's room under it. The published row is public, so every scope selects it
and every socket hears every publish: both cases deliver the same messages,
and the difference is what deciding per scope costs. Prints CPU µs of this
process per ``publish_update`` and per ``publish_create``, per delivered
message, and per ``publish_update`` of a row no scope selects and no socket
holds (``miss``: the decision alone, nothing sent).

    .venv/bin/python bench/scopes.py [--scopes 1 10 100] [--per-scope 10] [--publishes 300]
    .venv/bin/python bench/scopes.py --unscoped-only   # runs on code without scopes too
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import SockPub

db = SQLAlchemy()


class Plain(db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    owner = db.Column(db.Integer, nullable=False)
    title = db.Column(db.String(80), nullable=False)
    public = db.Column(db.Boolean, nullable=False)


class Scoped(db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    owner = db.Column(db.Integer, nullable=False)
    title = db.Column(db.String(80), nullable=False)
    public = db.Column(db.Boolean, nullable=False)


def make_app(scoped: bool) -> tuple[Flask, SockPub]:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="bench", SQLALCHEMY_DATABASE_URI="sqlite://")
    db.init_app(app)
    sockpub = SockPub(app, db=db, async_mode="threading")
    sockpub.blueprint(Plain)
    if scoped:
        sockpub.blueprint(Scoped, scope=lambda: Scoped.public == True)  # noqa: E712
    with app.app_context():
        db.create_all()
    return app, sockpub


def subscribe(app: Flask, sockpub: SockPub, model: Any, scopes: int, per_scope: int) -> list[Any]:
    """``scopes`` groups of ``per_scope`` sockets, each group in its own scope (or, for Plain, unscoped)."""
    rooms = sockpub.model(model)
    sockets = []
    with app.app_context():
        for group in range(scopes):
            scope = None
            if model is Scoped:
                from flask_sockpub.scopes import scope_of

                condition = sa.or_(Scoped.owner == group, Scoped.public == True)  # noqa: E712
                scope = scope_of(Scoped, condition)
            for _ in range(per_scope):
                socket = sockpub.test_client(app)
                target = _socket(app, socket.sid or "")
                if scope is None:
                    rooms.subscribe(target)
                    rooms.subscribe(target, [1])
                else:
                    rooms.subscribe_scoped(target, scope, None, [1], whole=True)
                sockets.append(socket)
    return sockets


def _socket(app: Flask, sid: str) -> Any:
    from flask_sockpub.sockets import Socket

    return Socket(app.extensions["sockpub"].server, sid, "/")


def cost(
    app: Flask, sockpub: SockPub, model: Any, publishes: int, sockets: list[Any]
) -> dict[str, float]:
    """CPU µs per publish_update and per publish_create."""
    rooms = sockpub.model(model)
    row = {"id": 1, "owner": -1, "title": "t", "public": True}
    spent = {"update": 0.0, "create": 0.0, "miss": 0.0}
    # A private row of nobody's: no scope selects it, no socket holds it.
    outside = {"id": 2, "owner": -1, "title": "t", "public": False}
    with app.app_context():
        for number in range(publishes):
            started = time.process_time()
            rooms.publish_update(2, {**outside, "title": f"t{number}"}, previous=outside)
            spent["miss"] += time.process_time() - started
            started = time.process_time()
            rooms.publish_update(1, {**row, "title": f"t{number}"}, previous=row)
            spent["update"] += time.process_time() - started
            key = 1000 + number
            started = time.process_time()
            rooms.publish_create({**row, "id": key})
            spent["create"] += time.process_time() - started
            if number % 50 == 49:
                for socket in sockets:
                    socket.client.get_received()  # keep memory flat; not timed
            # the created row's rooms go, as a destroy would empty them (not timed)
            server = app.extensions["sockpub"].server
            for room in list(server.manager.rooms.get("/", {})):
                if isinstance(room, str) and room.endswith(f":{key}"):
                    server.manager.rooms["/"].pop(room, None)
    for socket in sockets:
        socket.client.get_received()
    return {verb: seconds / publishes * 1e6 for verb, seconds in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scopes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--per-scope", type=int, default=10)
    parser.add_argument("--publishes", type=int, default=300)
    parser.add_argument("--unscoped-only", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    app, sockpub = make_app(scoped=not args.unscoped_only)
    models = [("unscoped", Plain)] + ([] if args.unscoped_only else [("scoped", Scoped)])
    print(
        f"CPU µs per publish, {args.per_scope} sockets per scope (group), "
        f"{args.publishes} publishes each; every socket hears every publish"
    )
    print(
        f"{'groups':>7}{'sockets':>8}{'kind':>10}{'update':>10}{'create':>10}{'µs/msg':>9}"
        f"{'miss':>8}"
    )
    for scopes in args.scopes:
        for kind, model in models:
            sockets = subscribe(app, sockpub, model, scopes, args.per_scope)
            cost(app, sockpub, model, 20, sockets)  # warm up
            figures = cost(app, sockpub, model, args.publishes, sockets)
            per_message = figures["update"] / len(sockets)
            print(
                f"{scopes:7}{len(sockets):8}{kind:>10}{figures['update']:10.0f}"
                f"{figures['create']:10.0f}{per_message:9.2f}{figures['miss']:8.1f}"
            )
            for socket in sockets:
                socket.disconnect()


if __name__ == "__main__":
    main()
