"""The criteria budget of a list request: a cap on text operators, a time bound, no needless count.

In-process apps (Flask's test client for HTTP, ``sockpub.test_client`` for
sockets) on SQLite, PostgreSQL and MariaDB. A slow list is made with the
blueprint's ``query`` option: a base query that sleeps in the database
(``pg_sleep``, ``SLEEP``, and on SQLite a recursive query calling a sleeping
function), as expensive criteria would keep it busy.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event, literal, select, text

from flask_sockpub import SockPub
from flask_sockpub.blueprints.criteria import CriteriaError, ListCriteria
from tests.databases import mariadb_database, postgres_database

db = SQLAlchemy()
sockpub = SockPub(db=db)


class Item(db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40), nullable=False)


def slow_condition(seconds: float) -> Any:
    """A SQL condition, true for every row, that keeps the database busy about ``seconds``."""
    dialect = db.session.get_bind(mapper=Item).dialect.name
    if dialect == "postgresql":
        return text(f"(SELECT pg_sleep({seconds})) IS NOT NULL")
    if dialect in ("mysql", "mariadb"):
        return text(f"(SELECT SLEEP({seconds})) = 0")
    rows = int(seconds * 1000)
    return text(
        f"(WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {rows}) "
        "SELECT count(*) FROM n WHERE test_sleep(0.001) = 0) >= 0"
    )


sockpub.blueprint(Item)
# An opaque query on purpose (a slow one): its blueprint warns that sockets subscribe to nothing.
with pytest.warns(UserWarning, match="subscribe to nothing"):
    sockpub.blueprint(
        Item, "/slow", name="slow",
        query=lambda: select(Item).where(slow_condition(float(request.headers.get("X-Sleep", "5")))),
    )  # fmt: skip

TIMEOUT = 0.3


def create_app(url: str, **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        {
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": url,
            "SOCKPUB_LIST_QUERY_TIMEOUT": TIMEOUT,
            **config,
        }
    )
    db.init_app(app)
    sockpub.init_app(app)

    @app.after_request
    def then_sleep(response: Any) -> Any:
        # A query after the list, in the same transaction, longer than the list's bound.
        if request.headers.get("X-Then-Sleep") and response.status_code == 200:
            db.session.execute(select(literal(1)).where(slow_condition(TIMEOUT * 2))).all()
            response.headers["X-Slept"] = "yes"
        return response

    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", register_test_sleep)
        db.create_all()
        db.session.add_all(Item(name=name) for name in ("Randy", "Rose", "Amanda"))
        db.session.commit()
        statements: list[str] = []
        app.extensions["statements"] = statements
        event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return app


def register_test_sleep(dbapi_connection: Any, record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("test_sleep", 1, lambda seconds: time.sleep(seconds) or 0)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'items.sqlite'}"
    elif request.param == "postgresql":
        with postgres_database("sockpub_budget") as url:
            yield url
    else:
        with mariadb_database("sockpub_budget") as url:
            yield url


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    made = create_app(database_url)
    yield made
    with made.app_context():
        db.engine.dispose()


def where(conditions: dict[str, Any]) -> str:
    return "where=" + json.dumps(conditions)


# Text operators


TEXT_OPERATORS = ["contains", "startsWith", "endsWith", "like"]


def text_conditions(count: int) -> dict[str, Any]:
    """``count`` text operators, in an ``or`` so that the request is otherwise valid."""
    return {"or": [{"name": {TEXT_OPERATORS[n % 4]: "r"}} for n in range(count)]}


def test_more_text_conditions_than_the_limit_get_a_400_naming_the_limit(tmp_path: Any) -> None:
    app = create_app(f"sqlite:///{tmp_path / 'items.sqlite'}")
    http, socket = app.test_client(), sockpub.test_client(app)
    assert http.get("/item?" + where(text_conditions(10))).status_code == 200
    for answer in (
        http.get("/item?" + where(text_conditions(11))),
        socket.get("/item", {"where": text_conditions(11)}),
    ):
        assert answer.status_code == 400
        body = answer.json if hasattr(answer, "json") and not callable(answer.json) else answer.body
        reason = body["fields"]["name"]
        assert "more than 10 text conditions" in reason and "SOCKPUB_MAX_TEXT_CONDITIONS" in reason
    socket.disconnect()


def test_the_text_condition_limit_is_a_setting(tmp_path: Any) -> None:
    app = create_app(f"sqlite:///{tmp_path / 'items.sqlite'}", SOCKPUB_MAX_TEXT_CONDITIONS=2)
    http = app.test_client()
    assert http.get("/item?" + where(text_conditions(2))).status_code == 200
    refused = http.get("/item?" + where(text_conditions(3)))
    assert (
        refused.status_code == 400
        and "more than 2 text conditions" in refused.json["fields"]["name"]
    )


def test_list_criteria_take_the_limit_as_an_option() -> None:
    criteria = ListCriteria(Item, max_text_conditions=1)
    criteria.parse({"where": json.dumps({"name": {"contains": "a"}})})
    with pytest.raises(CriteriaError, match="more than 1 text conditions"):
        criteria.parse({"where": json.dumps({"name": {"contains": "a", "endsWith": "b"}})})
    with pytest.raises(CriteriaError, match="more than 0 text conditions"):
        criteria.parse({"where": json.dumps({"name": {"like": "a%"}})}, max_text_conditions=0)


# The time bound


def test_a_list_query_past_the_time_bound_answers_503_and_the_server_keeps_serving(
    app: Flask,
) -> None:
    http, socket = app.test_client(), sockpub.test_client(app)
    for answer in (http.get("/slow"), socket.get("/slow")):
        assert answer.status_code == 503
        body = answer.json if hasattr(answer, "json") and not callable(answer.json) else answer.body
        assert set(body) == {"error"}
        assert "SOCKPUB_LIST_QUERY_TIMEOUT" in body["error"] and f"{TIMEOUT:g} s" in body["error"]
        listed = http.get("/item", headers={"X-Then-Sleep": "1"})
        assert (
            listed.status_code == 200
            and len(listed.json) == 3
            and listed.headers["X-Slept"] == "yes"
        )
    socket.disconnect()


def test_the_time_bound_ends_with_the_list(app: Flask) -> None:
    """A query after the list, in the same request and transaction, is not bound by it."""
    answer = app.test_client().get("/item", headers={"X-Then-Sleep": "1"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Slept"] == "yes"


def test_no_time_bound_when_the_setting_is_none(tmp_path: Any) -> None:
    app = create_app(f"sqlite:///{tmp_path / 'items.sqlite'}", SOCKPUB_LIST_QUERY_TIMEOUT=None)
    assert app.test_client().get("/slow", headers={"X-Sleep": str(TIMEOUT * 2)}).status_code == 200


# The count query


def count_queries(app: Flask, url: str) -> tuple[list[int], str, int]:
    """The ids listed by ``url``, its ``X-Total-Count``, and how many count queries it ran."""
    statements: list[str] = app.extensions["statements"]
    statements.clear()
    answer = app.test_client().get(url)
    assert answer.status_code == 200, answer.text
    counts = sum("count(*)" in statement.lower() for statement in statements)
    return [row["id"] for row in answer.json], answer.headers["X-Total-Count"], counts


def test_the_count_query_is_skipped_when_the_page_gives_the_total(tmp_path: Any) -> None:
    app = create_app(f"sqlite:///{tmp_path / 'items.sqlite'}")
    assert count_queries(app, "/item") == ([1, 2, 3], "3", 0)
    assert count_queries(app, "/item?limit=2&skip=2") == ([3], "3", 0)
    assert count_queries(app, "/item?limit=3") == (
        [1, 2, 3],
        "3",
        1,
    )  # a full page: more may follow
    assert count_queries(app, "/item?limit=2") == ([1, 2], "3", 1)
    assert count_queries(app, "/item?skip=5") == ([], "3", 1)  # an empty page says nothing
    assert count_queries(app, "/item?limit=0") == ([], "3", 1)
    assert count_queries(app, "/item?" + where({"name": {"startsWith": "r"}})) == ([1, 2], "2", 0)


# Numbers wider than their column (found by the fuzzing on psycopg 3)


def test_an_id_or_value_wider_than_its_integer_column_is_a_404_or_400_not_a_500(
    app: Flask, database_url: str
) -> None:
    """PostgreSQL with psycopg 3 refuses 2**31 for an ``INTEGER`` parameter."""
    http = app.test_client()
    for method in ("get", "patch", "delete"):
        answer = getattr(http, method)("/item/2147483648", json={} if method == "patch" else None)
        assert answer.status_code == 404, answer.text
    listed = http.get("/item?" + where({"id": 2**40}))
    if database_url.startswith("postgresql"):
        assert listed.status_code == 400, listed.text
        assert "out of range" in listed.json["error"]
    else:
        assert (listed.status_code, listed.json) == (200, [])
    assert http.get("/item").status_code == 200
