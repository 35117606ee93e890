"""What list parameters cost: parsing, and case-insensitive matching on each database.

Run from the repository root: ``.venv/bin/python -m bench.criteria [rows]``. It
creates (and drops) a PostgreSQL database of its own on 127.0.0.1:5432.
"""

from __future__ import annotations

import random
import string
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Engine, String, create_engine, func, insert, literal, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from werkzeug.datastructures import MultiDict

from flask_sockpub.blueprints.criteria import ListCriteria
from flask_sockpub.blueprints.textmatch import matches, register_sqlite_lower
from tests.databases import postgres_database


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "item"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    age: Mapped[int]


def best_of(runs: int, action: Callable[[], Any]) -> float:
    """The fastest of ``runs`` timings of ``action``, in seconds."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return min(timings)


def parsing() -> None:
    criteria = ListCriteria(Item)
    requests = {
        "bare ?name=Randy": {"name": "Randy"},
        "where+or+sort+limit": {
            "where": orjson.dumps(
                {"or": [{"name": {"contains": "an"}}, {"age": {">": 30}}]}
            ).decode(),
            "sort": "age DESC, name",
            "limit": "10",
        },
        "100 conditions": {
            "where": orjson.dumps({"or": [{"age": n} for n in range(100)]}).decode()
        },
        "in with 1,000 values": MultiDict([("age", str(n)) for n in range(1000)]),
    }
    for label, params in requests.items():
        seconds = best_of(5, lambda: [criteria.parse(params) for _ in range(200)]) / 200
        print(f"parse {label:<24} {seconds * 1e6:9.1f} µs")


def matching(engine: Engine, label: str, rows: int) -> None:
    Base.metadata.create_all(engine)
    rng = random.Random(7)
    letters = string.ascii_letters + "äöüÅÉßİ"
    names = ["".join(rng.choice(letters) for _ in range(12)) for _ in range(rows)]
    with engine.begin() as connection:
        connection.execute(
            insert(Item), [{"id": i, "name": n, "age": i % 90} for i, n in enumerate(names)]
        )
    name = Item.__table__.c.name
    variants = {
        "contains (Unicode lower)": select(func.count()).where(matches(name, "contains", "aBc")),
        "lower() LIKE (database's own)": select(func.count()).where(
            func.lower(name).like(func.lower(literal("%aBc%")))
        ),
        "plain LIKE": select(func.count()).where(name.like("%aBc%")),
        "equality (no index)": select(func.count()).where(name == "aBc"),
    }
    with engine.connect() as connection:
        for variant, statement in variants.items():
            connection.execute(statement)
            seconds = best_of(5, lambda: connection.execute(statement).scalar())
            print(
                f"{label:<10} {variant:<32} {seconds * 1e3:8.1f} ms over {rows:,} rows "
                f"({seconds / rows * 1e9:6.0f} ns/row)"
            )
        if engine.dialect.name == "postgresql":
            print(connection.execute(text("select version()")).scalar())


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    parsing()
    sqlite = create_engine("sqlite://")
    register_sqlite_lower(sqlite)
    matching(sqlite, "SQLite", rows)
    sqlite.dispose()
    with postgres_database("sockpub_bench") as url:
        postgres = create_engine(url)
        matching(postgres, "PostgreSQL", rows)
        postgres.dispose()


if __name__ == "__main__":
    main()
