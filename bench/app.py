"""The app the benchmark serves as "ours": flask_sockpub over Flask-SQLAlchemy.

``/echo`` answers ``{"success": true, "message": <message>}`` (over HTTP and
over sockets, through the whole Flask pipeline); ``sockpub.blueprint(Item)``
gives ``GET /item`` (which subscribes a socket to the class room) and
``POST /item`` (which publishes a create to it). The SQLite file lives in the
folder named by ``BENCH_DATA_DIR`` (a temporary folder when unset).

    python -m bench.serve bench.app:create_app --async-mode gevent --port 5000
"""

from __future__ import annotations

import os
import tempfile

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flask_sockpub import PubSub, SockPub, param


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
sockpub = SockPub(db=db)


class Item(PubSub, db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))


sockpub.blueprint(Item)


def create_app() -> Flask:
    """The bench app, its table created in a fresh SQLite file."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "bench"
    folder = os.environ.get("BENCH_DATA_DIR") or tempfile.mkdtemp(prefix="sockpub-bench-")
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(folder, "bench.sqlite")
    app.config.from_prefixed_env()  # FLASK_SOCKPUB_...=... from the environment, for bench.flood
    if os.environ.get(
        "SOCKPUB_MESSAGE_QUEUE"
    ):  # set by the many-processes scenario (bench/cluster.py)
        app.config["SOCKPUB_MESSAGE_QUEUE"] = os.environ["SOCKPUB_MESSAGE_QUEUE"]
    db.init_app(app)
    sockpub.init_app(app)
    with app.app_context():
        db.create_all()

    @app.route("/echo")
    def echo() -> dict[str, object]:
        return {"success": True, "message": param("message")}

    return app
