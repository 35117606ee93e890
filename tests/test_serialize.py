"""Instances become JSON-safe dicts of their columns."""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import serialize

db = SQLAlchemy()


class Colour(enum.Enum):
    RED = "red"


class Author(db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40))
    books = db.relationship("Book", back_populates="author")


class Book(db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column("title_text", db.String(40))  # attribute name differs from the column's
    author_id = db.Column(db.Integer, db.ForeignKey("author.id"))
    author = db.relationship(Author, back_populates="books")
    published = db.Column(db.Date)
    printed = db.Column(db.DateTime(timezone=True))
    at = db.Column(db.Time)
    price = db.Column(db.Numeric(8, 2))
    isbn = db.Column(db.Uuid)
    colour = db.Column(db.Enum(Colour))
    extra = db.Column(db.JSON)


class Scan(db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    image = db.Column(db.LargeBinary)


class Secretive(db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40))
    password = db.Column(db.String(40))

    def __sockpub_serialize__(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "seen": datetime.date(2024, 1, 2)}


class Broken(db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)

    def __sockpub_serialize__(self) -> Any:
        return [self.id]


@pytest.fixture
def session() -> Iterator[Any]:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(app)
    with app.app_context():
        db.create_all()
        yield db.session


def test_columns_become_a_json_safe_dict_keyed_by_attribute(session: Any) -> None:
    book = Book(
        id=1,
        title="Dune",
        published=datetime.date(1965, 8, 1),
        printed=datetime.datetime(2024, 5, 17, 9, 30, 15, 250000, tzinfo=datetime.timezone.utc),
        at=datetime.time(9, 30),
        price=decimal.Decimal("9.90"),
        isbn=uuid.UUID(int=7),
        colour=Colour.RED,
        extra={"tags": ["sf"], "when": datetime.date(2000, 1, 1)},
    )
    assert serialize(book) == {
        "id": 1,
        "title": "Dune",
        "author_id": None,
        "published": "1965-08-01",
        "printed": "2024-05-17T09:30:15.250000+00:00",
        "at": "09:30:00",
        "price": "9.90",
        "isbn": "00000000-0000-0000-0000-000000000007",
        "colour": "red",
        "extra": {"tags": ["sf"], "when": "2000-01-01"},
    }


def test_relationships_appear_as_foreign_key_ids_and_are_never_loaded(session: Any) -> None:
    session.add(Author(id=1, name="Herbert"))
    session.add(Book(id=1, title="Dune", author_id=1))
    session.commit()
    session.expunge_all()
    author = session.get(Author, 1)
    book = session.get(Book, 1)
    statements: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert serialize(book)["author_id"] == 1
    assert serialize(author) == {"id": 1, "name": "Herbert"}
    assert statements == []
    assert "author" not in sa.inspect(book).dict and "books" not in sa.inspect(author).dict


def test_bytes_are_refused_naming_the_column(session: Any) -> None:
    with pytest.raises(TypeError, match=r"Scan\.image holds bytes"):
        serialize(Scan(id=1, image=b"\x89PNG"))


def test_unknown_types_are_refused_naming_where(session: Any) -> None:
    with pytest.raises(TypeError, match=r"Book\.extra\.when holds a timedelta"):
        serialize(Book(id=1, extra={"when": datetime.timedelta(1)}))


def test_a_model_serialises_itself_with_its_hook(session: Any) -> None:
    assert serialize(Secretive(id=1, name="Ann", password="x")) == {
        "id": 1,
        "name": "Ann",
        "seen": "2024-01-02",
    }


def test_a_hook_that_returns_no_dict_is_an_error(session: Any) -> None:
    with pytest.raises(
        TypeError, match=r"Broken.__sockpub_serialize__\(\) must return a dict, not list"
    ):
        serialize(Broken(id=1))
