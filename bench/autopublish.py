"""CPU cost of automatic publishing per committed row, in one process.

Commits batches of inserts, then of updates, then of deletes of a small
model on in-memory SQLite, with and without ``__sockpub_autopublish__``,
and prints microseconds of this process's CPU per committed row for each.
One socket (the test client, no network) listed the class room, so every
create is announced and introduces it, and every update and destroy reaches
it: the cost includes building and sending the messages.

    .venv/bin/python bench/autopublish.py [--rows 20000] [--batch 100]
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import PubSub, SockPub

db = SQLAlchemy()


class Plain(PubSub, db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    count = db.Column(db.Integer, nullable=False, default=0)


class Published(PubSub, db.Model):  # type: ignore[name-defined,misc]
    __sockpub_autopublish__ = True

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    count = db.Column(db.Integer, nullable=False, default=0)


def make_app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="bench", SQLALCHEMY_DATABASE_URI="sqlite://")
    db.init_app(app)
    SockPub(app, db=db, async_mode="threading")
    with app.app_context():
        db.create_all()
    return app


def cost(app: Flask, model: Any, rows: int, batch: int) -> dict[str, float]:
    """CPU µs per committed row, per verb."""
    spent = {"insert": 0.0, "update": 0.0, "delete": 0.0}
    with app.app_context():
        for start in range(0, rows, batch):
            started = time.process_time()
            made = [model(name=f"row {number}") for number in range(start, start + batch)]
            db.session.add_all(made)
            db.session.commit()
            spent["insert"] += time.process_time() - started
            started = time.process_time()
            for row in made:
                row.count = 1
            db.session.commit()
            spent["update"] += time.process_time() - started
            started = time.process_time()
            for row in made:
                db.session.delete(row)
            db.session.commit()
            spent["delete"] += time.process_time() - started
    return {verb: seconds / rows * 1e6 for verb, seconds in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    app = make_app()
    socket = app.extensions["sockpub"].sockpub.test_client(app)
    with app.app_context():
        Plain.subscribe(socket.sid)
        Published.subscribe(socket.sid)
    cost(app, Plain, args.batch * 2, args.batch)  # warm up both paths
    cost(app, Published, args.batch * 2, args.batch)
    socket.received()
    without = cost(app, Plain, args.rows, args.batch)
    with_ = cost(app, Published, args.rows, args.batch)
    delivered = len(socket.received())
    print(f"{args.rows} rows in commits of {args.batch}; CPU µs per committed row")
    print(f"{'':10}{'without':>10}{'with':>10}{'added':>10}")
    for verb in without:
        added = with_[verb] - without[verb]
        print(f"{verb:10}{without[verb]:10.1f}{with_[verb]:10.1f}{added:10.1f}")
    print(f"messages delivered to the listing socket: {delivered} (expected {3 * args.rows})")


if __name__ == "__main__":
    main()
