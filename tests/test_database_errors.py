"""Constraint violations mean the same to clients whatever the database and its driver.

The blueprint suites run on SQLite, PostgreSQL with psycopg 3 (a plain
``postgresql://`` URL, SQLAlchemy 2.1's default) and MariaDB with PyMySQL;
the error mapping is checked here on psycopg2 as well.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import SockPub
from flask_sockpub.blueprints.columns import mysql_errno, sqlstate
from tests.databases import mariadb_database, postgres_database

DATABASES = ["sqlite", "postgresql+psycopg", "postgresql+psycopg2", "mariadb+pymysql"]


def database(kind: str, tmp_path: Path) -> AbstractContextManager[str]:
    if kind == "sqlite":
        return nullcontext(f"sqlite:///{tmp_path / 'errors.sqlite'}")
    if kind.startswith("postgresql"):
        return postgres_database("sockpub_errors", driver=kind.partition("+")[2])
    return mariadb_database("sockpub_errors")


@pytest.fixture(params=DATABASES)
def http(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FlaskClient]:
    with database(request.param, tmp_path) as url:
        app = Flask(__name__)
        app.config["SQLALCHEMY_DATABASE_URI"] = url
        db = SQLAlchemy(app)

        class Member(db.Model):  # type: ignore[name-defined,misc]
            id = db.Column(db.Integer, primary_key=True)
            handle = db.Column(db.String(20), nullable=False, unique=True)
            team_id = db.Column(db.Integer, db.ForeignKey("team.id"))

        class Team(db.Model):  # type: ignore[name-defined,misc]
            id = db.Column(db.Integer, primary_key=True)

        sockpub = SockPub(app, db=db)
        sockpub.blueprint(Member)
        with app.app_context():
            db.create_all()
        yield app.test_client()
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def test_the_drivers_under_test_are_the_ones_named(http: FlaskClient) -> None:
    with http.application.app_context():
        dialect = http.application.extensions["sqlalchemy"].engine.dialect
    assert f"{dialect.name}+{dialect.driver}" in {
        "sqlite+pysqlite",
        "postgresql+psycopg",
        "postgresql+psycopg2",
        "mysql+pymysql",
    }


def test_a_unique_clash_is_409_naming_the_field(http: FlaskClient) -> None:
    assert http.post("/member", json={"handle": "ada"}).status_code == 201
    clash = http.post("/member", json={"handle": "ada"})
    assert (clash.status_code, clash.json) == (
        409,
        {"error": "invalid values: handle: already taken", "fields": {"handle": "already taken"}},
    )
    assert http.get("/member").json == [{"id": 1, "handle": "ada", "team_id": None}]


# SQLite enforces foreign keys only with PRAGMA foreign_keys=ON.
@pytest.mark.parametrize("http", DATABASES[1:], indirect=True)
def test_a_missing_foreign_row_is_400(http: FlaskClient) -> None:
    refused = http.post("/member", json={"handle": "bob", "team_id": 99})
    assert refused.status_code == 400
    assert refused.json["error"].endswith("refers to a row that does not exist")
    assert http.get("/member").json == []


class Pg8000Error(Exception):
    """The shape of pg8000's errors: a dict of the server's error fields."""


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (type("Psycopg3Error", (Exception,), {"sqlstate": "23505"})(), "23505"),
        (type("Psycopg2Error", (Exception,), {"pgcode": "23502"})(), "23502"),
        (Pg8000Error({"C": "23503", "M": "violates"}), "23503"),
        (Exception("no code"), None),
    ],
)
def test_sqlstate_is_read_from_every_postgresql_driver(
    error: Exception, expected: str | None
) -> None:
    assert sqlstate(error) == expected


def test_mysql_errno_is_read_from_the_error_arguments() -> None:
    assert mysql_errno(Exception(1062, "Duplicate entry 'ada' for key 'handle'")) == 1062
    assert mysql_errno(Exception("no number")) is None
