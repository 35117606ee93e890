"""The app every process of the cluster serves: notes, live on every process.

``sockpub.blueprint(Note)`` gives ``GET /note`` (which subscribes a socket to
the class room) and ``POST /note`` (which publishes the create). The
processes share one database (``DATABASE_URL``) and one message queue
(``SOCKPUB_MESSAGE_QUEUE``), so a note posted to one process reaches the
sockets of every process. ``/`` is a page that lists notes live.

Started by ``python -m examples.cluster`` (see ``examples/cluster/__main__.py``).
"""

from __future__ import annotations

import os

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flask_sockpub import PubSub, SockPub


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
sockpub = SockPub(db=db)


class Note(PubSub, db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(500))


sockpub.blueprint(Note)

PAGE = """<!doctype html>
<title>Notes, on every process</title>
<script src="/sockpub/sockpub.js"></script>
<h1>Notes</h1>
<p id="status">connecting</p>
<ul id="notes"></ul>
<script>
  // Also what the tests look at.
  window.seen = { notes: [], creates: [], reconnects: [], disconnects: 0 };
  const list = document.getElementById('notes');
  const show = (note) => {
    const item = document.createElement('li');
    item.textContent = note.text;
    list.append(item);
  };
  socket.get('/note', (notes) => { notes.forEach(show); seen.notes.push(notes.length); });
  socket.on('note', (message) => {
    if (message.verb === 'created') { seen.creates.push(message.data.text); show(message.data); }
  });
  socket.on('connect', () => { document.getElementById('status').textContent = 'connected'; });
  socket.on('disconnect', () => { seen.disconnects += 1; });
  socket.on('reconnect', (info) => seen.reconnects.push(info));
</script>
"""


def create_app() -> Flask:
    """The cluster's app; ``DATABASE_URL`` and ``SOCKPUB_MESSAGE_QUEUE`` come from the environment."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "change me")
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite://")
    app.config["SOCKPUB_MESSAGE_QUEUE"] = os.environ.get("SOCKPUB_MESSAGE_QUEUE")
    app.config["SOCKPUB_EVENT_STYLE"] = "model"  # socket.on("note", ...), as in Sails 1.x
    db.init_app(app)
    sockpub.init_app(app)
    with app.app_context():
        db.create_all()

    @app.get("/")
    def page() -> str:
        return PAGE

    @app.get("/whoami")
    def whoami() -> dict[str, object]:
        """Which process answers (its pid and port): the page and the tests ask."""
        return {"pid": os.getpid(), "port": int(request.environ["SERVER_PORT"])}

    return app
