"""Three CRUD blueprints, one with some actions turned off, one scoped, and a plain view, for ``flask sockpub``.

Served by ``flask --app tests.apps.command_line sockpub run`` in the tests.
"""

from __future__ import annotations

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import PubSub, SockPub, param

db = SQLAlchemy()
sockpub = SockPub(db=db)


class Article(PubSub, db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(80), nullable=False)


class Comment(PubSub, db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    text = db.Column(db.String(80), nullable=False)


sockpub.blueprint(Article)
sockpub.blueprint(Comment, actions=["list", "get"])
# The same articles, scoped: the drafts only.
sockpub.blueprint(
    Article, "/draft", name="draft", scope=lambda: Article.title == "draft"
)  # fmt: skip


def create_app(**settings: object) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    app.config.update(settings)
    db.init_app(app)
    sockpub.init_app(app)

    @app.get("/hello")
    def hello() -> dict[str, object]:
        return {"hello": param("name", "world")}

    with app.app_context():
        db.create_all()
    return app
