"""The app the documentation's client examples talk to (``.. docs-test: serve tests.apps.docs:create_app``).

It serves what the examples ask for: the seed's ``/echo``, the ``User`` and
``Todo`` blueprints, ``/forbidden``, ``/report``, ``/me``, a chat room, and
token checks at connect. ``/_docs/block`` renders one JavaScript or HTML
block of the docs in a page, after the browser SDK, for the browser tests
(tests/browser/test_docs_examples.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, abort, render_template_string, request, session
from flask_socketio import ConnectionRefusedError
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import PubSub, SockPub, broadcast, current_socket, listen, param
from tests.docs_blocks import JAVASCRIPT, ROOT, read_page

db = SQLAlchemy()
sockpub = SockPub(db=db)
#: The token the examples' ``readToken()`` and ``token`` stand for.
TOKEN = "docs-token"


class User(PubSub, db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    age = db.Column(db.Integer)
    team = db.Column(db.String(20))


class Todo(PubSub, db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    done = db.Column(db.Boolean, nullable=False, default=False)


sockpub.blueprint(User)
sockpub.blueprint(Todo)


def user_for(token: str | None) -> str | None:
    return "ada" if token == TOKEN else None


@sockpub.on_connect
def check_token(auth: Any) -> None:
    if auth is not None and user_for(auth.get("token")) is None:
        raise ConnectionRefusedError("invalid token", {"hint": "log in again"})


#: Before every block: console.log recorded in ``docsLog`` (for the
#: ``after`` checks), and the helpers the examples call without defining.
PRELUDE = (
    """<!doctype html>
<script>
window.docsLog = [];
const originalLog = console.log.bind(console);
console.log = (...args) => { docsLog.push(args); originalLog(...args); };
const readToken = () => "%s";
const showUser = (body) => console.log(body);
const render = (items) => console.log(items);
</script>
"""
    % TOKEN
)
#: A JavaScript block, after the SDK, in an async function so that ``await`` works.
JS_PAGE = """<script src="{{ url_for('sockpub_client') }}"></script>
<script>
(async () => {
{{ code|safe }}
})().catch((error) => console.error("the block threw", String(error)));
</script>
"""


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    app.config["SECRET_KEY"] = "docs examples"
    # The clients page's login example keeps the user in the session itself.
    app.config["SOCKPUB_SESSION_IDENTITY"] = lambda session: session.get("user")
    db.init_app(app)
    sockpub.init_app(app)
    with app.app_context():
        db.create_all()
        db.session.add(Todo(id=1, title="Buy milk"))
        db.session.commit()

    @app.route("/echo")
    def echo() -> dict[str, Any]:
        return {"success": True, "message": param("message")}

    @app.route("/forbidden")
    def forbidden() -> Any:
        abort(403)

    @app.route("/report")
    def report() -> dict[str, Any]:
        return {"report": "done"}

    @app.route("/me")
    def me() -> dict[str, Any]:
        token = (current_socket.auth or {}).get("token") if current_socket else None
        return {"user": user_for(token)}

    @app.post("/chat/<room>/join")
    def join(room: str) -> dict[str, Any]:
        listen(f"chat:{room}")
        return {"joined": room}

    @app.post("/chat/<room>/say")
    def say(room: str) -> dict[str, Any]:
        include_self = param("include_self", True) is not False
        broadcast(f"chat:{room}", {"text": param("text")}, include_self=include_self)
        return {"said": param("text")}

    @app.get("/public")
    def public() -> dict[str, Any]:
        listen("public")
        return {"public": True}

    @app.post("/login")
    def login() -> dict[str, Any]:
        session["user"] = param("name")
        return {"user": session["user"]}

    @app.get("/inbox")
    def inbox() -> dict[str, Any]:
        user = session.get("user")
        if user is None:
            abort(401)
        listen(f"inbox:{user}")
        return {"user": user, "messages": []}

    @app.post("/logout")
    def logout() -> dict[str, Any]:
        session.clear()
        return {"user": None}

    @app.get("/_docs/block")
    def block() -> str:
        """The block at ``?page=docs/x.rst&line=N``, in a page."""
        path = (ROOT / request.args["page"]).resolve()
        if path.parent not in (ROOT, ROOT / "docs") or path.suffix != ".rst":
            abort(404)
        line = int(request.args["line"])
        found = [
            b for b in read_page(Path(path)).blocks if b.line == line and b.language in JAVASCRIPT
        ]
        if not found:
            abort(404)
        (shown,) = found
        if shown.language == "html":
            return PRELUDE + render_template_string(shown.code)
        return PRELUDE + render_template_string(JS_PAGE, code=shown.code)

    return app
