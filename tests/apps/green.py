"""A blueprint on PostgreSQL whose list can be made slow, set up for an event loop as the deployment docs say.

Served by ``live_server("tests.apps.green:create_app", async_mode=..., env={"DATABASE_URL": ...})``
with a ``postgresql+psycopg2://`` or ``postgresql+psycopg://`` URL. Under gevent,
psycopg2 needs psycogreen (psycopg 3 needs nothing); eventlet's own
monkey-patching covers psycopg2. ``GET /item`` lists; ``GET /slow`` lists
through a base query that sleeps ``X-Sleep`` seconds in the database.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

if "gevent" in sys.modules and "psycopg2" in os.environ.get("DATABASE_URL", ""):
    from gevent import monkey

    if monkey.is_module_patched("socket"):
        # What docs/deployment.rst tells gevent users of psycopg2 to do.
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()

from flask import Flask, request  # noqa: E402
from flask_sqlalchemy import SQLAlchemy  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from flask_sockpub import SockPub  # noqa: E402

db = SQLAlchemy()
sockpub = SockPub(db=db)


class Item(db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40), nullable=False)


def sleeping_items() -> Any:
    seconds = float(request.headers.get("X-Sleep", "1"))
    return select(Item).where(text(f"(SELECT pg_sleep({seconds})) IS NOT NULL"))


sockpub.blueprint(Item)
with warnings.catch_warnings():
    # An opaque query on purpose (a slow one): its sockets subscribe to nothing, as warned.
    warnings.simplefilter("ignore", UserWarning)
    sockpub.blueprint(Item, "/slow", name="slow", query=sleeping_items)


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", SQLALCHEMY_DATABASE_URI=os.environ["DATABASE_URL"])
    db.init_app(app)
    sockpub.init_app(app)
    with app.app_context():
        db.create_all()
        if not db.session.scalar(select(Item).limit(1)):
            db.session.add_all(Item(name=name) for name in ("Randy", "Rose"))
            db.session.commit()

    @app.get("/driver")
    def driver() -> Any:
        return {"driver": db.engine.dialect.driver}

    return app
